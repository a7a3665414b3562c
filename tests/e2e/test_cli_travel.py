"""`open12306 keys|wallet|gate|ticket-code` end to end on temporary directories, offline."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from open12306.cli.main import app
from open12306.travel.adapters.gate import load_bundle
from open12306.travel.adapters.qr import read_qr_png
from open12306.travel.domain.codes import ScanHint, open_scan, open_ticket

NOW = 1_800_000_000  # 2027-01-15 08:00 UTC
DEPARTS = "2027-01-20T09:00+08:00"
DEPARTS_AT = int(datetime.fromisoformat(DEPARTS).timestamp())


def invoke(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def ok(*args: object) -> str:
    code, out, err = invoke(*args)
    assert code == 0, out + err
    return out


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    ok("keys", "init", "--dir", directory)
    return directory


@pytest.fixture
def wallet(tmp_path: Path, keys: Path) -> Path:
    directory = tmp_path / "wallet"
    ok("wallet", "init", "--dir", directory)
    ok("wallet", "credential", "--keys", keys, "--dir", directory, "--now", NOW - 60)
    return directory


def bundle(keys: Path, station: str, out: Path, *deny: object) -> Path:
    """A ride-code gate's bundle, built without a booking database (keys-only, warned)."""
    args = ["gate", "bundle", "--keys", keys, "--station", station, "--out", out, "--keys-only"]
    code, _, err = invoke(*args, *deny)
    assert code == 0 and err.startswith("warning: --keys-only: the bundle carries no"), err
    return out


def code(wallet: Path, png: Path, *flags: str, now: int = NOW) -> Path:
    ok("wallet", "code", "--dir", wallet, "--png", png, "--now", now, *flags)
    return png


def gate(
    station: str, bundle_path: Path, journal: Path, direction: str, image: Path, now: int
) -> tuple[int, list[dict[str, Any]]]:
    args = ["gate", "run", image, "--station", station, "--bundle", bundle_path]
    args += ["--journal", journal, "--direction", direction, "--now", now, "--json"]
    exit_code, out, err = invoke(*args)
    assert exit_code in (0, 3), err
    return exit_code, [json.loads(line) for line in out.splitlines()]


def exported_states(keys: Path) -> dict[int, str]:
    document = json.loads(ok("keys", "export", "--dir", keys))
    return {k["id"]: k["state"] for k in document["keys"]}


def test_keys_init_rotate_export(tmp_path: Path, keys: Path) -> None:
    assert mode(keys) == 0o700
    assert all(mode(p) == 0o600 for p in keys.glob("issuer-*.pem"))
    assert exported_states(keys) == {1: "current", 2: "next"}
    assert "key 2 is current" in ok("keys", "rotate", "--dir", keys)
    out = tmp_path / "public.json"
    ok("keys", "export", "--dir", keys, "--out", out)
    states = {k["id"]: k["state"] for k in json.loads(out.read_text())["keys"]}
    assert states == {1: "previous", 2: "current", 3: "next"}
    ok("keys", "rotate", "--dir", keys)
    assert exported_states(keys) == {2: "previous", 3: "current", 4: "next"}
    assert not (keys / "issuer-00001.pem").exists()
    assert "PRIVATE" not in out.read_text()


def test_wallet_keeps_its_secrets_private_and_counts_up(tmp_path: Path, wallet: Path) -> None:
    assert mode(wallet) == 0o700
    assert mode(wallet / "device.key") == 0o600
    assert mode(wallet / "credential.bin") == 0o600
    out = ok("wallet", "code", "--dir", wallet, "--exit", "--now", NOW)
    assert "█" in out or "▀" in out  # the QR drawn in the terminal
    first = open_scan(read_qr_png(wallet / "code.png"))
    second = open_scan(read_qr_png(code(wallet, tmp_path / "again.png", "--entry")))
    assert (first.part.counter, first.part.hint) == (1, ScanHint.EXIT)
    assert (second.part.counter, second.part.hint) == (2, ScanHint.ENTRY)
    assert first.credential.signature == second.credential.signature


def test_ride_code_enters_once_and_exits_at_another_station(
    tmp_path: Path, keys: Path, wallet: Path
) -> None:
    here = bundle(keys, "VNP", tmp_path / "vnp.json")
    there = bundle(keys, "AOH", tmp_path / "aoh.json")
    image = code(wallet, tmp_path / "in.png", "--entry")
    exit_code, [tap] = gate("VNP", here, tmp_path / "vnp.db", "entry", image, NOW + 5)
    assert exit_code == 0
    assert (tap["accepted"], tap["reason"], tap["kind"]) == (True, "ok", "ride")
    assert tap["subject"].startswith("serial:") and tap["tap_id"].startswith("gate-1/")
    exit_code, [again] = gate("VNP", here, tmp_path / "vnp.db", "entry", image, NOW + 9)
    assert (exit_code, again["accepted"], again["reason"]) == (3, False, "replayed")
    out_image = code(wallet, tmp_path / "out.png", "--exit", now=NOW + 1800)
    exit_code, [out] = gate("AOH", there, tmp_path / "aoh.db", "exit", out_image, NOW + 1805)
    assert (exit_code, out["accepted"], out["subject"]) == (0, True, tap["subject"])


def test_plain_output_is_one_line_per_image(tmp_path: Path, keys: Path, wallet: Path) -> None:
    here = bundle(keys, "VNP", tmp_path / "vnp.json")
    folder = tmp_path / "camera"
    folder.mkdir()
    code(wallet, folder / "1.png")
    (folder / "2.png").write_bytes(folder.joinpath("1.png").read_bytes())
    args = ["--station", "VNP", "--bundle", here, "--journal", tmp_path / "j.db"]
    exit_code, out, _ = invoke("gate", "run", folder, *args, "--direction", "entry", "--now", NOW)
    lines = out.splitlines()
    assert exit_code == 3 and len(lines) == 2
    assert lines[0].startswith("1.png: accepted ok serial:")
    assert lines[1].startswith("2.png: refused replayed serial:")


def ticket(keys: Path, png: Path, number: str = "E123456789") -> Path:
    ok(
        "ticket-code",
        *("--keys", keys, "--ticket-no", number, "--train", "G1"),
        *("--from", "VNP", "--to", "AOH", "--departs", DEPARTS),
        *("--class", "first", "--coach", 3, "--seat", "07F", "--png", png),
    )
    return png


def test_ticket_code_is_admitted_at_its_station_only(tmp_path: Path, keys: Path) -> None:
    image = ticket(keys, tmp_path / "ticket.png")
    issued = open_ticket(read_qr_png(image)).value
    assert (issued.train_code, issued.coach, issued.seat_label) == ("G1", 3, "07F")
    assert issued.valid_until == DEPARTS_AT - 5 * 60
    at = DEPARTS_AT - 30 * 60
    vnp = bundle(keys, "VNP", tmp_path / "vnp.json")
    shh = bundle(keys, "SHH", tmp_path / "shh.json")
    exit_code, [admitted] = gate("VNP", vnp, tmp_path / "vnp.db", "entry", image, at)
    assert (exit_code, admitted["reason"], admitted["subject"]) == (0, "ok", "E123456789")
    exit_code, [elsewhere] = gate("SHH", shh, tmp_path / "shh.db", "entry", image, at)
    assert (exit_code, elsewhere["reason"]) == (3, "wrong_station")
    exit_code, [early] = gate("VNP", vnp, tmp_path / "early.db", "entry", image, at - 3 * 3600)
    assert (exit_code, early["reason"]) == (3, "not_yet_valid")


def test_a_revoked_ticket_is_refused_once_the_bundle_is_rebuilt(tmp_path: Path, keys: Path) -> None:
    image = ticket(keys, tmp_path / "ticket.png")
    other = ticket(keys, tmp_path / "other.png", number="E999")
    at = DEPARTS_AT - 30 * 60
    path = bundle(keys, "VNP", tmp_path / "vnp.json")
    assert gate("VNP", path, tmp_path / "gate1.db", "entry", image, at)[0] == 0
    bundle(keys, "VNP", path, "--deny-ticket", "E123456789")
    assert load_bundle(path).bundle_version == 2
    exit_code, [refused] = gate("VNP", path, tmp_path / "gate2.db", "entry", image, at)
    assert (exit_code, refused["reason"]) == (3, "revoked")
    assert gate("VNP", path, tmp_path / "gate2.db", "entry", other, at)[0] == 0


def test_a_deny_listed_account_is_refused(tmp_path: Path, keys: Path) -> None:
    wallet = tmp_path / "wallet"
    ok("wallet", "init", "--dir", wallet)
    account = "ab" * 16
    issued = ok(
        *("wallet", "credential", "--keys", keys, "--dir", wallet),
        *("--account", account, "--now", NOW),
    )
    assert f"account {account}" in issued
    path = bundle(keys, "VNP", tmp_path / "vnp.json", "--deny-account", account)
    image = code(wallet, tmp_path / "in.png", now=NOW + 3600)
    exit_code, [tap] = gate("VNP", path, tmp_path / "j.db", "entry", image, NOW + 3600)
    assert (exit_code, tap["reason"]) == (3, "deny_listed")


def test_a_credential_signed_by_a_retired_key_is_refused(
    tmp_path: Path, keys: Path, wallet: Path
) -> None:
    ok("keys", "rotate", "--dir", keys)
    path = bundle(keys, "VNP", tmp_path / "vnp.json")
    image = code(wallet, tmp_path / "1.png")
    assert gate("VNP", path, tmp_path / "j.db", "entry", image, NOW)[1][0]["reason"] == "ok"
    ok("keys", "rotate", "--dir", keys)
    bundle(keys, "VNP", path)
    assert load_bundle(path).retired_key_ids == frozenset({1})
    image = code(wallet, tmp_path / "2.png", now=NOW + 60)
    exit_code, [tap] = gate("VNP", path, tmp_path / "j.db", "exit", image, NOW + 60)
    assert (exit_code, tap["reason"]) == (3, "retired_key")


def test_sync_uploads_taps_once(tmp_path: Path, keys: Path, wallet: Path) -> None:
    path = bundle(keys, "VNP", tmp_path / "vnp.json")
    journal, collector = tmp_path / "j.db", tmp_path / "collector.db"
    image = code(wallet, tmp_path / "1.png")
    gate("VNP", path, journal, "entry", image, NOW)
    gate("VNP", path, journal, "entry", image, NOW + 1)
    sync = ("gate", "sync", "--journal", journal, "--collector", collector)
    assert "uploaded 2 taps: 2 new, 0 already collected" in ok(*sync)
    gate("VNP", path, journal, "exit", code(wallet, tmp_path / "2.png"), NOW + 2)
    assert "uploaded 3 taps: 1 new, 2 already collected" in ok(*sync)


def test_sync_takes_in_a_fresh_bundle_and_the_gate_then_refuses_a_refunded_ticket(
    tmp_path: Path, keys: Path
) -> None:
    office = bundle(keys, "VNP", tmp_path / "office.json")
    held = tmp_path / "gate.json"
    old = tmp_path / "old.json"
    old.write_bytes(office.read_bytes())
    journal, collector = tmp_path / "j.db", tmp_path / "c.db"
    sync = ("gate", "sync", "--journal", journal, "--collector", collector)
    image = ticket(keys, tmp_path / "ticket.png")
    at = DEPARTS_AT - 30 * 60
    gate("VNP", office, tmp_path / "j.db", "exit", image, at)  # a refusal, journaled
    ok(*sync, "--fetch", office, "--bundle", held)
    bundle(keys, "VNP", office, "--deny-ticket", "E123456789")  # refunded: version 2
    assert "bundle version 2 for VNP" in ok(*sync, "--fetch", office, "--bundle", held)
    exit_code, [tap] = gate("VNP", held, journal, "entry", image, at)
    assert (exit_code, tap["reason"]) == (3, "revoked")
    exit_code, _, err = invoke(*sync, "--fetch", old, "--bundle", held)
    assert exit_code == 2 and "version 1 is older than 2" in err
    assert load_bundle(held).deny.tickets == frozenset({"E123456789"})


BAD_INPUT = [
    ("keys rotate --dir {tmp}/none", "no key store at"),
    ("keys init --dir {keys}", "is not empty"),
    ("wallet code --dir {tmp}/none", "no wallet at"),
    ("wallet credential --keys {keys} --dir {tmp}/none", "no wallet at"),
    ("wallet credential --keys {keys} --dir {wallet} --flag free", "flag: 'free' is not"),
    ("gate bundle --keys {keys} --station ABCDEFGHIJKLMNOPQ --out {tmp}/b --no-db", "station"),
    (
        "gate bundle --keys {keys} --station VNP --out {tmp}/b --keys-only --deny-account xyz",
        "deny-account: expected hex",
    ),
    (
        "gate run {tmp} --station VNP --bundle {tmp}/none.json --journal {tmp}/j.db"
        " --direction entry",
        "cannot read",
    ),
    ("gate sync --journal {tmp}/none.db --collector {tmp}/c.db", "no such journal"),
    ("gate sync --journal {tmp}/j.db --collector {tmp}/c.db --fetch {tmp}/b", "go together"),
    (
        "ticket-code --keys {keys} --ticket-no E1 --train G1 --from VNP --to VNP --png {tmp}/t.png",
        "to_station: must differ",
    ),
    (
        "ticket-code --keys {keys} --ticket-no E1 --train G1 --from VNP --to AOH"
        " --departs soon --png {tmp}/t.png",
        "departs: expected",
    ),
]


@pytest.mark.parametrize(("args", "expected"), BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, keys: Path, wallet: Path, args: str, expected: str
) -> None:
    filled = args.format(tmp=tmp_path, keys=keys, wallet=wallet).split()
    exit_code, out, err = invoke(*filled)
    assert exit_code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert expected in err


def test_gate_refuses_a_bundle_for_another_station(tmp_path: Path, keys: Path) -> None:
    path = bundle(keys, "VNP", tmp_path / "vnp.json")
    image = ticket(keys, tmp_path / "t.png")
    args = ["--station", "AOH", "--bundle", path, "--journal", tmp_path / "j.db"]
    exit_code, _, err = invoke("gate", "run", image, *args, "--direction", "entry")
    assert exit_code == 2
    assert err.strip() == "error: station: the bundle is for VNP, not AOH"
    assert not (tmp_path / "j.db").exists()


def test_a_watched_folder_is_decided_image_by_image(
    tmp_path: Path, keys: Path, wallet: Path
) -> None:
    import shutil
    import subprocess
    import sys

    here = bundle(keys, "VNP", tmp_path / "vnp.json")
    image = code(wallet, tmp_path / "in.png", "--entry")
    camera = tmp_path / "camera"
    camera.mkdir()
    command = [sys.executable, "-c", "from open12306.cli.main import main; main()"]
    args = ["gate", "run", str(camera), "--watch", "--poll", "0.05", "--station", "VNP"]
    args += ["--bundle", str(here), "--journal", str(tmp_path / "g.db"), "--direction", "entry"]
    args += ["--now", str(NOW + 5), "--json"]
    gate_process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines = []
    try:
        assert gate_process.stdout is not None
        for name in ("first.png", "again.png"):  # the same code shown twice
            shutil.copy(image, camera / f".{name}")
            (camera / f".{name}").rename(camera / name)
            lines.append(json.loads(gate_process.stdout.readline()))
    finally:
        gate_process.terminate()
        gate_process.wait(10)
    assert [(t["image"].rsplit("/", 1)[1], t["accepted"], t["reason"]) for t in lines] == [
        ("first.png", True, "ok"),
        ("again.png", False, "replayed"),
    ]


def test_a_keys_only_bundle_is_warned_marked_and_shown_by_the_gate(
    tmp_path: Path, keys: Path, wallet: Path
) -> None:
    path = bundle(keys, "VNP", tmp_path / "vnp.json")  # asserts the build warning
    assert load_bundle(path).keys_only and json.loads(path.read_text())["keys_only"] is True
    image = code(wallet, tmp_path / "in.png", "--entry")
    args = ["gate", "run", image, "--station", "VNP", "--bundle", path]
    exit_code, out, err = invoke(*args, "--journal", tmp_path / "j.db", "--direction", "entry",
                                 "--now", NOW + 5, "--json")  # fmt: skip
    assert exit_code == 0
    assert json.loads(out)["bundle_keys_only"] is True
    assert err.strip() == (
        f"warning: keys-only bundle ({path}): the bundle carries no revoked tickets and no "
        "manifest: refunded and changed tickets stay valid at the gate until a bundle built "
        "from the database replaces it"
    )


def with_database(url: str, *args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], env={"OPEN12306_DATABASE_URL": url})
    return result.exit_code, result.stdout, result.stderr


def test_a_bundle_needs_a_readable_database_unless_keys_only_is_asked(
    tmp_path: Path, keys: Path
) -> None:
    out = tmp_path / "vnp.json"
    build = ["gate", "bundle", "--keys", keys, "--station", "VNP", "--out", out]
    missing = tmp_path / "none" / "o.db"
    exit_code, stdout, err = with_database(f"sqlite:///{missing}", *build)
    assert (exit_code, stdout) == (2, "")
    assert err.strip() == (
        f"error: database: no database file at {missing} (OPEN12306_DATABASE_URL); create it "
        "(`make run`, `open12306 db upgrade`) or build with --keys-only"
    )
    assert not missing.parent.exists()  # nothing created on the way
    empty = tmp_path / "empty.db"
    empty.touch()
    exit_code, _, err = with_database(f"sqlite:///{empty}", *build)
    assert exit_code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: database: cannot read sqlite:///{empty}: no such table")
    unreachable = "postgresql://rider:s3cret@127.0.0.1:1/open12306"
    exit_code, _, err = with_database(unreachable, *build)
    assert exit_code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: database: cannot read postgresql+psycopg://rider:***@127.0.0.1")
    assert "s3cret" not in err
    assert not out.exists()
    exit_code, _, err = with_database(unreachable, *build, "--keys-only", "--from-db")
    assert (exit_code, err.strip()) == (
        2,
        "error: keys-only: --keys-only and --from-db exclude each other",
    )
    exit_code, stdout, err = with_database(unreachable, *build, "--no-db")
    assert exit_code == 0 and "0 revoked tickets" in stdout
    assert err.startswith("warning: --keys-only:") and load_bundle(out).keys_only


def test_offline_commands_name_stations_as_search_does(tmp_path: Path, keys: Path) -> None:
    path = bundle(keys, "北京南", tmp_path / "vnp.json")  # keys-only: the shipped station list
    assert load_bundle(path).station == "VNP"
    image = tmp_path / "t.png"
    ok(
        "ticket-code",
        *("--keys", keys, "--ticket-no", "E1", "--train", "G1", "--departs", DEPARTS),
        *("--from", "beijingnan", "--to", "上海虹桥", "--png", image),
    )
    issued = open_ticket(read_qr_png(image)).value
    assert (issued.from_station, issued.to_station) == ("VNP", "AOH")
    at = DEPARTS_AT - 1800
    exit_code, [tap] = gate("北京南站", path, tmp_path / "j.db", "entry", image, at)
    assert (exit_code, tap["reason"]) == (0, "ok")
    exit_code, _, err = invoke(
        "gate", "run", image, "--station", "上海虹桥", "--bundle", path,
        "--journal", tmp_path / "j.db", "--direction", "entry",
    )  # fmt: skip
    assert (exit_code, err.strip()) == (2, "error: station: the bundle is for VNP, not 上海虹桥")
    out = tmp_path / "x.json"
    exit_code, _, err = invoke("gate", "bundle", "--keys", keys, "--station", "bjn", "--out", out,
                               "--keys-only")  # fmt: skip
    assert (exit_code, err.strip()) == (
        2,
        "error: station: 'bjn' names 2 stations: 北京南 (VNP)、宝鸡南 (BBY); give one of them",
    )
    exit_code, _, err = invoke("gate", "bundle", "--keys", keys, "--station", "北京京京",
                               "--out", out, "--keys-only")  # fmt: skip
    assert exit_code == 2 and err.startswith("error: station: unknown station '北京京京'; did")
    assert "北京南 (VNP)" in err and not out.exists()

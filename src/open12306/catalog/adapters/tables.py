"""Tables of the timetable: stations, trains, their stops and calendars, and runs.

Hot tables carry the run key (train_code, service_date) so they can be sharded by run.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
)

from open12306.shared.db.metadata import metadata

stations = Table(
    "stations",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("pinyin", String(128), nullable=False, server_default=""),
    Column("initials", String(32), nullable=False, server_default=""),
    Column("city", String(64), nullable=False, server_default=""),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("source", String(32), nullable=False, server_default="12306"),
    Column("seq", Integer, nullable=False, server_default="0"),
)

trains = Table(
    "trains",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("train_type", String(2), nullable=False, server_default=""),
    Column("composition", String(64), nullable=False),
    Column("synthetic", Boolean, nullable=False, server_default="1"),
    Column("holiday_only", Boolean, nullable=False, server_default="0"),
    Column("name", String(128), nullable=False, server_default=""),
    Column("source", String(64), nullable=False, server_default="generator"),
    # NULL: the train runs every day; else its calendar is (source, service_id).
    Column("service_id", String(128), nullable=True),
)

# GTFS-style service calendars of trains that do not run every day, per source of trains.
service_calendars = Table(
    "service_calendars",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("service_id", String(128), primary_key=True),
    Column("weekdays", String(7), nullable=False, server_default="0000000"),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
)

service_calendar_dates = Table(
    "service_calendar_dates",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("service_id", String(128), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("added", Boolean, nullable=False),  # False: removed from the weekly pattern
    ForeignKeyConstraint(
        ["source", "service_id"],
        ["service_calendars.source", "service_calendars.service_id"],
        ondelete="CASCADE",
    ),
)

train_stops = Table(
    "train_stops",
    metadata,
    Column(
        "train_code",
        String(64),
        ForeignKey("trains.code", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True),
    Column("station", String(64), ForeignKey("stations.code"), nullable=False),
    Column("arrive", Integer, nullable=True),
    Column("depart", Integer, nullable=True),
    Column("km", Integer, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column(
        "train_code",
        String(64),
        ForeignKey("trains.code", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("service_date", Date, primary_key=True),
    Column("status", String(16), nullable=False, server_default="scheduled"),
)
Index("ix_runs_service_date", runs.c.service_date)

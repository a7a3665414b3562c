"""The one mapping the order services pick a payment provider from, by channel name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import cast

from open12306.payments.ports import PaymentProvider
from open12306.payments.services.counter import COUNTER, CodeChannel, CounterProvider


class PaymentChannels(Mapping[str, PaymentProvider]):
    """Every provider a service takes money through, by name: its credit line, the counter
    (while the provider of ``counter_channel`` charges payment codes) and the channels' own
    providers, in that order (the rest by name).

    ``channels`` is kept, not copied: channels added to it or taken from it later (embedded
    mode puts the sandbox's in after start-up) are seen at the next look-up."""

    def __init__(
        self,
        channels: Mapping[str, PaymentProvider],
        credit: PaymentProvider,
        counter_channel: str = "alipay",
    ) -> None:
        self.channels = channels
        self.credit = credit
        self.counter_channel = counter_channel
        self._counter: CounterProvider | None = None

    def with_credit(self, credit: PaymentProvider) -> PaymentChannels:
        """The same channels with another credit line (a service with a limit of its own)."""
        return PaymentChannels(self.channels, credit, self.counter_channel)

    def counter(self) -> CounterProvider | None:
        """The counter over the code channel's current provider (None if it takes no codes)."""
        provider = self.channels.get(self.counter_channel)
        if provider is None or not hasattr(provider, "pay_with_code"):
            return None
        known = self._counter
        if known is None or known.channel is not provider:
            known = self._counter = CounterProvider(cast(CodeChannel, provider))
        return known

    def opened_through(self, channel: str) -> tuple[str, ...]:
        """The providers whose trades are trades of ``channel`` (the counter's are its code
        channel's), so that the channel's word on a trade may concern one of them."""
        return (COUNTER,) if channel == self.counter_channel else ()

    def __getitem__(self, name: str) -> PaymentProvider:
        if name == self.credit.name:
            return self.credit
        if name == COUNTER:
            counter = self.counter()
            if counter is None:
                raise KeyError(name)
            return counter
        return self.channels[name]

    def __iter__(self) -> Iterator[str]:
        yield self.credit.name
        if self.counter() is not None:
            yield COUNTER
        yield from sorted(self.channels)

    def __len__(self) -> int:
        return sum(1 for _ in self)

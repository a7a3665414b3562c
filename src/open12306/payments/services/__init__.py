"""Payment providers that are no channel's SDK: the credit line (our own books), the counter (a
payment code charged through a channel), and the mapping a service picks providers from by
channel name. Plain logic over the port: no network, no database of their own."""

"""Transit use cases: settle a day of taps, the credit line, the credit assessment."""

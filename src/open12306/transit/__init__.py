"""City transit and ride-now-pay-later: taps, daily settlement, the credit line and score."""

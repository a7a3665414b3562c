"""open12306: an open 12306-style railway ticketing and digital-travel platform."""

__version__ = "0.1.0"

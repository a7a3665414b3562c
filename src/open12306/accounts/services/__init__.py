"""Account use cases: register, log in, save passengers, enrol faces."""

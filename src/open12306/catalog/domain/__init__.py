"""Timetable rules: stations and their index, trains, calendars, routes, seats, fares, quotas."""

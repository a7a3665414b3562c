"""The catalog: stations, the timetable and its calendars, fares, compositions, runs, GTFS."""

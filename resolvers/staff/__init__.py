"""Staff work: the counter (check-out, check-in, pull list, transit) and cataloguing."""

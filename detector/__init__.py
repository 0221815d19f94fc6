"""From readings to signs of life to judgements about each household to alerts."""

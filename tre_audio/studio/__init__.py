"""The studio: sessions made for the page, one at a time, from a queue."""

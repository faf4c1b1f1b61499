"""What the listener's practice has been: the sessions made and how each went."""

"""The MP3 container: encoding in parts, frames and their joins, the Info frame, ID3 tags and chapters."""

"""The files beside an MP3: transcript, subtitles, the JSON timeline and the picture."""

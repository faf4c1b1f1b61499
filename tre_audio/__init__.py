"""tre-audio: offline, personal audio sessions for Trauma Release Exercise practice.

The project is independent and not affiliated with TRE for All, Inc., owner of the
"TRE" trademark. Sessions are self-care, not treatment.
"""

__version__ = "0.1.0"

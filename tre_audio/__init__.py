"""tre-audio: offline, personal audio sessions for Trauma Release Exercise practice.

The project is independent and not affiliated with TRE for All, Inc., owner of the
"TRE" trademark. Sessions are self-care, not treatment.
"""

import os as _os

__version__ = "0.1.0"

# onnxruntime (the runtime of the Piper voices) keeps a device id and a queue of usage
# events under ~/.cache/Microsoft and sends them to Microsoft, unless this is set before
# it is first imported. Set here, it holds in every process that imports tre-audio, and
# in the processes they start; nothing the user's environment says turns it back on.
_os.environ["ORT_DISABLE_TELEMETRY"] = "1"

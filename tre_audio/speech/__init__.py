"""Speech: engines that turn one sentence into audio, a disk cache, and clip clean-up."""

"""The sound: speech clips levelled, beds, bells and tones mixed, loudness measured, limited and mastered."""

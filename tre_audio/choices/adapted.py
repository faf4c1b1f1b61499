"""The last layer of a session's choices: the practice record. How the last sessions
went sets the shaking phase (``practice.dose``) over a plan's or the profile's tremor; a
tremor given for this session still wins."""

from __future__ import annotations

import dataclasses
import datetime
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidOption, ProfileError, TreAudioWarning
from . import layers
from .profile import Profile
from ..narration.programmes import parts
from ..options import settings
from ..options.values import Options
from ..practice import history, store
from ..practice.dose import Dose, next_dose
from ..session import check_length


@dataclass(frozen=True)
class Adapted:
    """Options as the practice record shapes them, what set the tremor, the record to
    add the session to, and what to tell the listener before it is made."""

    options: Options
    dose: Dose | None
    """None: the session has no shaking phase, or the record is not kept."""
    record: Path | None
    """None: the session is not recorded (``--no-record``)."""
    notices: tuple[str, ...] = ()


def adapt(options: Options, chosen: float | None, path: Path | None = None,
          now: datetime.datetime | None = None, scripted: bool = False) -> Adapted:
    """``options`` as the record at ``path`` (default: the user's) shapes them, for a
    session made now; ``chosen``: the tremor given for this session alone (the command
    line's, or the form's); ``scripted``: a session of a script, whose words are written
    (recorded, not shaped). With ``options.record`` off, nothing is read or written."""
    if not options.record:
        return Adapted(options, None, None)
    path = path or store.default_path()
    practice = history.load(path)  # none there: nothing known yet (and none made)
    return shaped(options, chosen, practice,
                  now or datetime.datetime.now(datetime.timezone.utc), path, scripted)


def shaped(options: Options, chosen: float | None, practice: history.Practice,
           now: datetime.datetime, path: Path | None = None, scripted: bool = False
           ) -> Adapted:
    """``adapt`` over a record already read."""
    notices = []
    count = history.in_week(practice, now)
    if count >= history.WEEKLY:
        notices.append(f"{count} sessions in the last seven days. More than three a week "
                       "is a lot: a rest day or two, or a gentler programme (grounding, "
                       "breathing), may serve you better today.")
    made_of = None if scripted else parts(options.programme, options.recipe.exercises,
                                          options.templates)
    if made_of is None or "tremor" not in made_of.takes:
        return Adapted(options, None, path, tuple(notices))
    level = settings.level(options.level)
    most = min(level.tremor_high, made_of.tremor_most or level.tremor_high)
    planned = options.recipe.tremor if options.recipe.tremor is not None else most
    dose = next_dose(level, history.outcomes(practice), planned, chosen, made_of.tremor_most)
    if dose.rule in ("planned", "chosen"):
        return Adapted(options, dose, path, tuple(notices))
    recipe = dataclasses.replace(options.recipe, tremor=dose.tremor, adapted=dose.said,
                                 ground_first=dose.grounding_first)
    adapted = dataclasses.replace(options, recipe=recipe)
    if dose.said:
        notices.append(dose.said.replace("today's", "this session's"))
    if dose.grounding_first:
        notices.append("If you would rather only ground today, the grounding programme "
                       "is ten calm minutes: tre-audio generate grounding")
    if adapted.minutes is not None:
        try:
            check_length(adapted)
        except InvalidOption as error:
            if error.option != "--minutes":
                raise
            check_length(options)  # out of reach whatever the dose: that error, then
            adapted = dataclasses.replace(adapted, minutes=None)
            notices.append(f"{adapted.recipe.tremor:g} minutes of shaking cannot fill "
                           f"{options.minutes:g} minutes, so this session has its natural "
                           "length.")
    return Adapted(adapted, dose, path, tuple(notices))


def forecast(programme: str | None, path: Path | None = None,
             profile: Profile | None = None) -> Dose | None:
    """What the record sets for the next session of ``programme`` made as ``generate``
    would make it (the profile over the defaults), if it sets anything (None: the plan
    stands, the programme has no shaking phase, or the record is off)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TreAudioWarning)  # said when it is made
            options = layers.options({"programme": programme}, profile=profile)
        dose = adapt(options, None, path).dose
    except (InvalidOption, ProfileError):  # a programme gone, or a profile to mend
        return None
    return dose if dose is not None and dose.rule in ("halved", "raised", "kept") else None

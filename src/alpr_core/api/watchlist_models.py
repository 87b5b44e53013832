"""The bodies of the watchlist endpoints: what a client may send (every field checked, nothing
unknown accepted); what it gets back are the rows of ``db/watchlists.py``
(docs/decisions.md#watchlists)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from alpr_core.api.search import FUZZY_MAX_EDITS, WILDCARD_RULE, wildcard_form
from alpr_core.db.watchlists import (
    Entry,
    EntryMode,
    EntrySpec,
    ImportCounts,
    Priority,
    Watchlist,
)
from alpr_core.events.parse import normalize_plate

# A label holds no ";": CSV cells list labels separated by it (api/watchlist_csv.py).
Label = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^;]+$")]
Labels = Annotated[list[Label], Field(min_length=1, max_length=100)]
HourOfWeek = Annotated[int, Field(ge=0, le=167)]
MIN_PLATE = {"exact": 2, "fuzzy": 4}  # letters or digits, as the searches ask


class _Strict(BaseModel):
    """Nothing unknown, no text PostgreSQL would refuse (NUL), and no space around text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _stripped(cls, value: object) -> object:
        """Text without space around it (Python's rule of what is space, as CSV cells are read)."""
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, list):
            return [item.strip() if isinstance(item, str) else item for item in value]
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("text cannot contain NUL characters")
        return value


class WatchlistIn(_Strict):
    name: str = Field(min_length=1, max_length=200, examples=["Stolen vehicles"])
    priority: Priority = "warning"
    owner: str = Field(min_length=1, max_length=200, examples=["Control room"])
    sites: Labels | None = Field(default=None, description="None: every site.")
    retention_days: int = Field(default=365, ge=1, le=3650, description="Days its alerts stay.")


class WatchlistChange(_Strict):
    """Only the fields sent change; ``sites: null`` makes the list every site's."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    priority: Priority | None = None
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    sites: Labels | None = None
    retention_days: int | None = Field(default=None, ge=1, le=3650)

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        for name in ("name", "priority", "owner", "retention_days"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class WatchlistList(BaseModel):
    items: list[Watchlist]


class EntryIn(_Strict):
    plate: str = Field(min_length=1, max_length=32, examples=["AB12CDE", "AB?2*"])
    match_mode: EntryMode = "exact"
    max_distance: int = Field(
        default=0, ge=0, le=FUZZY_MAX_EDITS, description="Edits beyond OCR look-alikes (fuzzy)."
    )
    reason: str = Field(default="", max_length=500)
    reference: str = Field(default="", max_length=200, examples=["case 2026/1187"])
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    cameras: Labels | None = None
    sites: Labels | None = None
    directions: Labels | None = None
    hours_of_week: Annotated[list[HourOfWeek], Field(min_length=1, max_length=168)] | None = Field(
        default=None, description="0 = Monday 00:00-01:00 UTC ... 167 = Sunday 23:00-24:00."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            raise ValueError("valid_from must be before valid_until")
        if self.max_distance and self.match_mode != "fuzzy":
            raise ValueError("max_distance is for fuzzy entries only")
        plate_form(self.plate, self.match_mode)  # raises ValueError when unusable
        return self

    def spec(self) -> EntrySpec:
        return EntrySpec(
            self.plate,
            plate_form(self.plate, self.match_mode),
            self.match_mode,
            self.max_distance,
            self.reason,
            self.reference,
            self.valid_from,
            self.valid_until,
            self.cameras,
            self.sites,
            self.directions,
            sorted(set(self.hours_of_week)) if self.hours_of_week else None,
        )


def plate_form(plate: str, mode: EntryMode) -> str:
    """The form an entry matches by: the normalized plate, or the wildcard pattern."""
    if mode == "wildcard":
        form = wildcard_form(plate)
        if form is None:
            raise ValueError(f"a wildcard entry needs {WILDCARD_RULE}")
        return form
    normalized = normalize_plate(plate)
    if len(normalized) < MIN_PLATE[mode]:
        raise ValueError(f"a {mode} entry needs {MIN_PLATE[mode]} letters or digits")
    return normalized


class EntryPage(BaseModel):
    items: list[Entry]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """A line of an imported file that is not a valid entry: its number (the header is line 1)
    and why."""

    line: int
    errors: list[str]


class ImportReport(BaseModel):
    """What an import did: entries created, updated, already equal (unchanged), deleted (with
    ``replace``), and the lines rejected."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: list[RejectedLine]

    def summary(self) -> str:
        return f"{len(self.rejected)} lines are not valid entries; nothing was imported."

    def with_counts(self, counts: ImportCounts) -> ImportReport:
        return self.model_copy(update=asdict(counts))

"""The HTTP shape of a business calendar, for every service that lets people edit one (intake's desk
hours, dispatch's service centres)."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from kit.calendar import BusinessCalendar


class HoursDto(BaseModel):
    opens: time
    closes: time = Field(description="00:00 means midnight at the end of the day")


class CalendarDto(BaseModel):
    """Local opening hours per weekday (0 = Monday; a weekday left out is closed) and closed dates."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "timezone": "Europe/Berlin",
                    "working_hours": {str(day): {"opens": "08:00", "closes": "18:00"} for day in range(5)},
                    "holidays": ["2026-12-25", "2026-12-26"],
                }
            ]
        }
    )

    timezone: Annotated[str, Field(min_length=1, max_length=64, description="IANA time zone")]
    working_hours: dict[Annotated[int, Field(ge=0, le=6)], HoursDto] = Field(max_length=7)
    holidays: list[date] = Field(default_factory=list, max_length=400)

    def domain(self) -> BusinessCalendar:
        """The calendar, checked (a known time zone, each day closing after it opens)."""
        return BusinessCalendar(
            timezone=self.timezone,
            working_hours={day: (h.opens, h.closes) for day, h in self.working_hours.items()},
            holidays=frozenset(self.holidays),
        )

    @classmethod
    def of(cls, calendar: BusinessCalendar) -> CalendarDto:
        return cls(
            timezone=calendar.timezone,
            working_hours={
                day: HoursDto(opens=opening, closes=closing)
                for day, (opening, closing) in sorted(calendar.working_hours.items())
            },
            holidays=sorted(calendar.holidays),
        )

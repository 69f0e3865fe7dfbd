"""get_weather: current conditions from Open-Meteo (geocoding, then forecast; no API key).

Both base URLs come from settings, so tests point them at a local fake service. Answers are
cached briefly in the process: weather changes slowly and a chat repeats questions.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import Any, TypeGuard

from pydantic import BaseModel, Field

from .base import Tool, ToolContext, ToolError
from .outbound import fetch_json

# Open-Meteo's current values are refreshed every 15 minutes; 10 minutes of cache saves repeat calls.
CACHE_SECONDS = 600.0
# Distinct places remembered; bounds the memory a visitor naming random places can take.
CACHE_SIZE = 256
# With a ", qualifier" (country or region) this many candidates are fetched to pick the match.
_CANDIDATES = 10

_CURRENT = "temperature_2m,relative_humidity_2m,apparent_temperature,weather_code,wind_speed_10m"

# WMO weather interpretation codes, as documented by Open-Meteo.
WMO_CODES: dict[int, str] = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "depositing rime fog",
    51: "light drizzle",
    53: "moderate drizzle",
    55: "dense drizzle",
    56: "light freezing drizzle",
    57: "dense freezing drizzle",
    61: "slight rain",
    63: "moderate rain",
    65: "heavy rain",
    66: "light freezing rain",
    67: "heavy freezing rain",
    71: "slight snowfall",
    73: "moderate snowfall",
    75: "heavy snowfall",
    77: "snow grains",
    80: "slight rain showers",
    81: "moderate rain showers",
    82: "violent rain showers",
    85: "slight snow showers",
    86: "heavy snow showers",
    95: "thunderstorm",
    96: "thunderstorm with slight hail",
    99: "thunderstorm with heavy hail",
}

_SERVICE = "The weather service"


class WeatherArgs(BaseModel):
    location: str = Field(
        min_length=2,
        max_length=100,
        description="City or place name, optionally with its country or region, e.g. 'Lyon' or 'Paris, Texas'.",
    )


class Weather(Tool[WeatherArgs]):
    name = "get_weather"
    label = "Looked up the weather"
    description = "Get the current weather (conditions, temperature, feels-like, humidity, wind) for a city or place."
    Args = WeatherArgs

    def __init__(self, *, cache_size: int = CACHE_SIZE, cache_seconds: float = CACHE_SECONDS) -> None:
        self.cache_size = cache_size
        self.cache_seconds = cache_seconds
        self._cache: OrderedDict[tuple[str, str, str], tuple[float, str]] = OrderedDict()

    async def run(self, args: WeatherArgs, ctx: ToolContext) -> str:
        location = " ".join(args.location.split())
        key = (ctx.settings.weather_geocoding_url, ctx.settings.weather_forecast_url, location.casefold())
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            self._cache.move_to_end(key)
            return cached[1]
        # two requests share the tool's time budget
        timeout = ctx.settings.tool_timeout_seconds / 2
        place = await _geocode(ctx, location, timeout)
        report = await _current_weather(ctx, place, timeout)
        self._cache[key] = (time.monotonic() + self.cache_seconds, report)
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return report


async def _geocode(ctx: ToolContext, location: str, timeout: float) -> dict[str, Any]:
    # Open-Meteo searches names only: "Paris, France" finds nothing, so the part after the first
    # comma picks among the candidates for "Paris" instead.
    name, _, qualifier = location.partition(",")
    name, qualifier = name.strip(), qualifier.strip().casefold()
    if len(name) < 2:
        raise ToolError(f"{location!r} is not a place name the weather service can look up")
    answer = await fetch_json(
        ctx.http,
        "GET",
        ctx.settings.weather_geocoding_url,
        service=_SERVICE,
        timeout=timeout,
        params={"name": name, "count": _CANDIDATES if qualifier else 1, "language": "en", "format": "json"},
    )
    results = answer.get("results") if isinstance(answer, dict) else None
    if not results:
        raise ToolError(f"No place called {location!r} was found; try a nearby city or add the country")
    candidates = [item for item in results if isinstance(item, dict)]
    chosen = next((item for item in candidates if _matches(item, qualifier)), None) if qualifier else None
    place = chosen or (candidates[0] if candidates else None)
    if place is None or not _is_number(place.get("latitude")) or not _is_number(place.get("longitude")):
        raise ToolError("The weather service sent an unexpected answer")
    return place


def _matches(place: dict[str, Any], qualifier: str) -> bool:
    names = (place.get("country"), place.get("country_code"), place.get("admin1"), place.get("admin2"))
    return any(isinstance(item, str) and item.casefold() == qualifier for item in names)


async def _current_weather(ctx: ToolContext, place: dict[str, Any], timeout: float) -> str:
    answer = await fetch_json(
        ctx.http,
        "GET",
        ctx.settings.weather_forecast_url,
        service=_SERVICE,
        timeout=timeout,
        params={
            "latitude": place["latitude"],
            "longitude": place["longitude"],
            "current": _CURRENT,
            "timezone": "auto",
        },
    )
    current = answer.get("current") if isinstance(answer, dict) else None
    if not isinstance(current, dict):
        raise ToolError("The weather service sent an unexpected answer")
    units = answer.get("current_units")
    units = units if isinstance(units, dict) else {}
    values: dict[str, float] = {}
    for field in _CURRENT.split(","):
        value = current.get(field)
        if not _is_number(value):
            raise ToolError("The weather service sent an unexpected answer")
        values[field] = value

    def measure(field: str, default_unit: str) -> str:
        unit = units.get(field, default_unit)
        unit = unit if isinstance(unit, str) and len(unit) <= 8 else default_unit
        return f"{values[field]:g} {unit}" if unit != "%" else f"{values[field]:g}%"

    code = int(values["weather_code"])
    conditions = WMO_CODES.get(code, f"weather code {code}")
    where = ", ".join(
        part
        for part in (place.get("name"), place.get("admin1"), place.get("country"))
        if isinstance(part, str) and part
    )
    observed = current.get("time")
    when = f" Observed {observed} local time." if isinstance(observed, str) and len(observed) <= 32 else ""
    return (
        f"Current weather in {where}: {conditions}, {measure('temperature_2m', '°C')} "
        f"(feels like {measure('apparent_temperature', '°C')}), humidity {measure('relative_humidity_2m', '%')}, "
        f"wind {measure('wind_speed_10m', 'km/h')}.{when}"
    )


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

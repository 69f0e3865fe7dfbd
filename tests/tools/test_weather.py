"""get_weather against a fake Open-Meteo (geocoding + forecast) over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from portfolio_backend.settings import Settings
from portfolio_backend.store import Stores
from portfolio_backend.tools.weather import Weather

from ..fixtures.fake_http import Answer, FakeHTTP, Request, closed_port_url
from .conftest import MakeSettings, ToolBench

BERLIN = {
    "name": "Berlin",
    "latitude": 52.52437,
    "longitude": 13.41053,
    "country": "Germany",
    "country_code": "DE",
    "admin1": "Land Berlin",
}
PARIS_FRANCE = {
    "name": "Paris",
    "latitude": 48.85341,
    "longitude": 2.3488,
    "country": "France",
    "country_code": "FR",
    "admin1": "Île-de-France",
}
PARIS_TEXAS = {
    "name": "Paris",
    "latitude": 33.66094,
    "longitude": -95.55551,
    "country": "United States",
    "country_code": "US",
    "admin1": "Texas",
}


def forecast(code: int = 3, temperature: float = 12.5) -> dict[str, Any]:
    return {
        "latitude": 52.52,
        "longitude": 13.42,
        "current_units": {
            "time": "iso8601",
            "temperature_2m": "°C",
            "relative_humidity_2m": "%",
            "apparent_temperature": "°C",
            "weather_code": "wmo code",
            "wind_speed_10m": "km/h",
        },
        "current": {
            "time": "2030-01-15T14:00",
            "interval": 900,
            "temperature_2m": temperature,
            "relative_humidity_2m": 80,
            "apparent_temperature": 10.1,
            "weather_code": code,
            "wind_speed_10m": 10.4,
        },
    }


class OpenMeteo:
    """The fake service's two endpoints, answering by place name and by latitude."""

    def __init__(self, service: FakeHTTP, places: list[dict[str, Any]], *, code: int = 3) -> None:
        self.service = service
        self.places = places
        service.on("GET", "/v1/search", self._geocode)
        service.on("GET", "/v1/forecast", Answer(body=forecast(code)))

    def _geocode(self, request: Request) -> Answer:
        found = [place for place in self.places if place["name"].casefold() == request.query["name"].casefold()]
        body: dict[str, Any] = {"generationtime_ms": 0.5}
        if found:  # like Open-Meteo, no "results" key at all when nothing matches
            body["results"] = found[: int(request.query["count"])]
        return Answer(body=body)

    def settings(self, make: MakeSettings, **overrides: Any) -> Settings:
        values = {
            "weather_geocoding_url": self.service.url("/v1/search"),
            "weather_forecast_url": self.service.url("/v1/forecast"),
            **overrides,
        }
        return make(**values)


@pytest.fixture
def open_meteo(fake_http: FakeHTTP) -> OpenMeteo:
    return OpenMeteo(fake_http, [BERLIN, PARIS_TEXAS, PARIS_FRANCE])


@pytest.fixture
def weather_bench(open_meteo: OpenMeteo, tool_settings: MakeSettings, plain_stores: Stores, http: Any) -> ToolBench:
    return ToolBench(open_meteo.settings(tool_settings), plain_stores, http)


async def test_reports_current_weather_for_a_place(weather_bench: ToolBench, fake_http: FakeHTTP) -> None:
    ok, text = await weather_bench.call("get_weather", {"location": "Berlin"})

    assert ok
    assert text == (
        "Current weather in Berlin, Land Berlin, Germany: overcast, 12.5 °C (feels like 10.1 °C), "
        "humidity 80%, wind 10.4 km/h. Observed 2030-01-15T14:00 local time."
    )
    (geocode,) = fake_http.received("GET", "/v1/search")
    assert geocode.query["name"] == "Berlin"
    assert geocode.query["count"] == "1"
    (weather,) = fake_http.received("GET", "/v1/forecast")
    assert weather.query["latitude"] == "52.52437"
    assert weather.query["longitude"] == "13.41053"
    assert set(weather.query["current"].split(",")) == {
        "temperature_2m",
        "relative_humidity_2m",
        "apparent_temperature",
        "weather_code",
        "wind_speed_10m",
    }


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (0, "clear sky"),
        (45, "fog"),
        (63, "moderate rain"),
        (75, "heavy snowfall"),
        (99, "thunderstorm with heavy hail"),
    ],
)
async def test_maps_wmo_weather_codes_to_words(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any, code: int, words: str
) -> None:
    bench = ToolBench(OpenMeteo(fake_http, [BERLIN], code=code).settings(tool_settings), plain_stores, http)
    ok, text = await bench.call("get_weather", {"location": "Berlin"})
    assert ok
    assert f"Germany: {words}, " in text


async def test_an_unlisted_weather_code_is_named_by_number(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    bench = ToolBench(OpenMeteo(fake_http, [BERLIN], code=42).settings(tool_settings), plain_stores, http)
    ok, text = await bench.call("get_weather", {"location": "Berlin"})
    assert ok
    assert "Germany: weather code 42, " in text


async def test_a_country_or_region_after_a_comma_picks_the_place(weather_bench: ToolBench, fake_http: FakeHTTP) -> None:
    ok, text = await weather_bench.call("get_weather", {"location": "Paris, Texas"})

    assert ok
    assert text.startswith("Current weather in Paris, Texas, United States: ")
    (geocode,) = fake_http.received("GET", "/v1/search")
    assert geocode.query["name"] == "Paris"  # Open-Meteo finds nothing for "Paris, Texas"
    assert int(geocode.query["count"]) > 1
    (weather,) = fake_http.received("GET", "/v1/forecast")
    assert weather.query["latitude"] == "33.66094"


async def test_an_unknown_place_is_a_clear_error(weather_bench: ToolBench) -> None:
    assert await weather_bench.call("get_weather", {"location": "Atlantis"}) == (
        False,
        "Error: No place called 'Atlantis' was found; try a nearby city or add the country",
    )


async def test_answers_are_cached_per_place(weather_bench: ToolBench, fake_http: FakeHTTP) -> None:
    first = await weather_bench.call("get_weather", {"location": "Berlin"})
    again = await weather_bench.call("get_weather", {"location": "  berlin "})
    assert again == first
    assert len(fake_http.requests) == 2  # one geocoding and one forecast, for both calls

    await weather_bench.call("get_weather", {"location": "Paris"})
    assert len(fake_http.requests) == 4


async def test_the_cache_is_bounded(
    open_meteo: OpenMeteo, tool_settings: MakeSettings, plain_stores: Stores, http: Any, fake_http: FakeHTTP
) -> None:
    bench = ToolBench(open_meteo.settings(tool_settings), plain_stores, http, [Weather(cache_size=1)])

    for place in ("Berlin", "Paris", "Berlin"):
        assert (await bench.call("get_weather", {"location": place}))[0]

    assert len(fake_http.requests) == 6  # Berlin was evicted by Paris, so fetched again


async def test_cached_answers_expire(
    open_meteo: OpenMeteo, tool_settings: MakeSettings, plain_stores: Stores, http: Any, fake_http: FakeHTTP
) -> None:
    bench = ToolBench(open_meteo.settings(tool_settings), plain_stores, http, [Weather(cache_seconds=0)])

    for _ in range(2):
        assert (await bench.call("get_weather", {"location": "Berlin"}))[0]

    assert len(fake_http.requests) == 4


async def test_an_http_error_is_a_clear_error(weather_bench: ToolBench, fake_http: FakeHTTP) -> None:
    fake_http.on("GET", "/v1/forecast", Answer(503, {"error": True, "reason": "maintenance"}))
    assert await weather_bench.call("get_weather", {"location": "Berlin"}) == (
        False,
        "Error: The weather service answered with an error (HTTP 503)",
    )


async def test_an_answer_that_is_not_json_is_a_clear_error(weather_bench: ToolBench, fake_http: FakeHTTP) -> None:
    fake_http.on("GET", "/v1/search", Answer(raw=b"<html>captive portal</html>"))
    assert await weather_bench.call("get_weather", {"location": "Berlin"}) == (
        False,
        "Error: The weather service sent an answer that is not JSON",
    )


async def test_an_answer_without_the_current_values_is_a_clear_error(
    weather_bench: ToolBench, fake_http: FakeHTTP
) -> None:
    fake_http.on("GET", "/v1/forecast", Answer(body={"current": {"temperature_2m": "warm"}}))
    assert await weather_bench.call("get_weather", {"location": "Berlin"}) == (
        False,
        "Error: The weather service sent an unexpected answer",
    )


async def test_an_oversized_answer_is_refused(weather_bench: ToolBench, fake_http: FakeHTTP) -> None:
    fake_http.on("GET", "/v1/search", Answer(raw=b'{"results": "' + b"x" * 1_200_000 + b'"}'))
    assert await weather_bench.call("get_weather", {"location": "Berlin"}) == (
        False,
        "Error: The weather service sent an answer larger than 1000 kB",
    )


async def test_an_unreachable_service_is_a_clear_error(
    tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    down = closed_port_url()
    settings = tool_settings(weather_geocoding_url=f"{down}/v1/search", weather_forecast_url=f"{down}/v1/forecast")
    bench = ToolBench(settings, plain_stores, http)
    assert await bench.call("get_weather", {"location": "Berlin"}) == (
        False,
        "Error: The weather service is unreachable right now",
    )


async def test_a_service_that_never_answers_times_out(
    open_meteo: OpenMeteo, fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    fake_http.on("GET", "/v1/forecast", Answer(hold=True))
    bench = ToolBench(open_meteo.settings(tool_settings, tool_timeout_seconds=0.4), plain_stores, http)
    assert await bench.call("get_weather", {"location": "Berlin"}) == (
        False,
        "Error: The weather service did not answer within 0.2 s",
    )


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("B", "location: String should have at least 2 characters"),
        ("B" * 101, "location: String should have at most 100 characters"),
    ],
)
async def test_bad_locations_are_argument_errors(weather_bench: ToolBench, location: str, message: str) -> None:
    assert await weather_bench.call("get_weather", {"location": location}) == (False, f"Error: {message}")

#!/usr/bin/python3
"""Independent reference for TacRS.Hil.Orbit: look angles and passes from python3-skyfield
(Debian), with SGP4 from python3-sgp4. Run with Debian's /usr/bin/python3.

usage: skyfield_reference.py TLE_FILE LAT LON HEIGHT_M START_ISO HOURS MASK_DEG STEP_S
prints JSON: {"looks": [[iso, az, el, range_km, range_rate_km_s], ...],
              "teme": [[iso, x, y, z], ...],
              "events": [[iso, kind], ...]}   kind 0 = rise (AOS), 1 = culminate, 2 = set (LOS)
"""
import json
import sys
from datetime import datetime, timedelta, timezone

from skyfield.api import EarthSatellite, load, wgs84

path, lat, lon, h, start, hours, mask, step = sys.argv[1:9]
lines = [l.rstrip() for l in open(path) if l.strip() and not l.startswith('#')]
i = next(k for k, l in enumerate(lines) if l.startswith('1 '))
ts = load.timescale(builtin=True)
sat = EarthSatellite(lines[i], lines[i + 1], lines[i - 1] if i > 0 else 'sat', ts)
site = wgs84.latlon(float(lat), float(lon), elevation_m=float(h))
t0 = datetime.fromisoformat(start.replace('Z', '+00:00')).astimezone(timezone.utc)
n = int(float(hours) * 3600 / float(step))
times = [t0 + timedelta(seconds=k * float(step)) for k in range(n + 1)]
t = ts.from_datetimes(times)
diff = (sat - site).at(t)
alt, az, dist, alt_rate, az_rate, range_rate = diff.frame_latlon_and_rates(site)
looks = []
for k, when in enumerate(times):
    looks.append([when.isoformat(), az.degrees[k], alt.degrees[k], dist.km[k], range_rate.km_per_s[k]])
teme = []
from sgp4.api import jday
for when in times[::max(1, len(times) // 50)]:
    jd, fr = jday(when.year, when.month, when.day, when.hour, when.minute, when.second + when.microsecond / 1e6)
    e, r, v = sat.model.sgp4(jd, fr)
    teme.append([when.isoformat(), r[0], r[1], r[2]])
te, kinds = sat.find_events(site, ts.from_datetime(t0), ts.from_datetime(t0 + timedelta(hours=float(hours))), altitude_degrees=float(mask))
events = [[x.utc_datetime().isoformat(), int(k)] for x, k in zip(te, kinds)]
print(json.dumps({"looks": looks, "teme": teme, "events": events, "dut1": float(t.dut1[0])}))

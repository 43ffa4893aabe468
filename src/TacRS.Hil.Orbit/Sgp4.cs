namespace TacRS.Hil.Orbit;

/// <summary>A position and velocity in km and km/s, in the frame named by the producer.</summary>
public readonly record struct StateVector(double X, double Y, double Z, double Vx, double Vy, double Vz)
{
    public double Radius => Math.Sqrt((X * X) + (Y * Y) + (Z * Z));
}

/// <summary>SGP4 could not propagate (decayed, or elements out of the model's domain); <see cref="Code"/> as Vallado's <c>error</c>.</summary>
public sealed class Sgp4Exception(int code, string message) : InvalidOperationException(message)
{
    public int Code { get; } = code;
}

/// <summary>
/// SGP4 (near-Earth, period &lt; 225 min) after Vallado, Crawford, Hujsak &amp; Kelso, "Revisiting
/// Spacetrack Report #3" (AIAA 2006-6753), "improved" operation mode, WGS-72 constants as the
/// TLEs are fitted with. Output is TEME. Deep-space elements (SDP4: lunar-solar terms and
/// resonances) are refused: no TacRS LEO payload needs them and a half-done SDP4 is worse than none.
/// </summary>
public sealed class Sgp4
{
    // WGS-72 (sgp4unit getgravconst "wgs72").
    public const double Mu = 398600.8;
    public const double EarthRadiusKm = 6378.135;
    private const double J2 = 0.001082616;
    private const double J3 = -0.00000253881;
    private const double J4 = -0.00000165597;
    private const double J3OverJ2 = J3 / J2;
    private const double TwoPi = 2 * Math.PI;
    private const double X2o3 = 2.0 / 3.0;
    private static readonly double Xke = 60.0 / Math.Sqrt(EarthRadiusKm * EarthRadiusKm * EarthRadiusKm / Mu);
    private static readonly double KmPerSec = EarthRadiusKm * Xke / 60.0;

    private readonly double _bstar, _ecco, _argpo, _inclo, _mo, _nodeo, _noUnkozai;
    private readonly bool _isimp;
    private readonly double _aycof, _con41, _cc1, _cc4, _cc5, _d2, _d3, _d4, _delmo, _eta, _argpdot, _omgcof,
        _sinmao, _t2cof, _t3cof, _t4cof, _t5cof, _x1mth2, _x7thm1, _mdot, _nodedot, _xlcof, _xmcof, _nodecf;

    public Sgp4(TwoLineElements tle)
    {
        Elements = tle;
        const double deg = Math.PI / 180.0;
        var xpdotp = 1440.0 / TwoPi;
        var noKozai = tle.MeanMotionRevPerDay / xpdotp;
        _bstar = tle.BStar;
        _ecco = tle.Eccentricity;
        _inclo = tle.InclinationDeg * deg;
        _nodeo = tle.RaanDeg * deg;
        _argpo = tle.ArgumentOfPerigeeDeg * deg;
        _mo = tle.MeanAnomalyDeg * deg;

        // initl: recover the original mean motion (Brouwer) from the Kozai mean motion.
        var eccsq = _ecco * _ecco;
        var omeosq = 1.0 - eccsq;
        var rteosq = Math.Sqrt(omeosq);
        var cosio = Math.Cos(_inclo);
        var cosio2 = cosio * cosio;
        var ak = Math.Pow(Xke / noKozai, X2o3);
        var d1 = 0.75 * J2 * ((3.0 * cosio2) - 1.0) / (rteosq * omeosq);
        var del = d1 / (ak * ak);
        var adel = ak * (1.0 - (del * del) - (del * ((1.0 / 3.0) + (134.0 * del * del / 81.0))));
        del = d1 / (adel * adel);
        _noUnkozai = noKozai / (1.0 + del);
        var ao = Math.Pow(Xke / _noUnkozai, X2o3);
        var sinio = Math.Sin(_inclo);
        var po = ao * omeosq;
        var con42 = 1.0 - (5.0 * cosio2);
        _con41 = -con42 - cosio2 - cosio2;
        var posq = po * po;
        var rp = ao * (1.0 - _ecco);

        if (TwoPi / _noUnkozai >= 225.0)
        {
            throw new Sgp4Exception(0, $"satellite {tle.SatelliteNumber}: period {TwoPi / _noUnkozai:0.#} min is deep space (SDP4), which this propagator does not implement");
        }

        if (_ecco is < 0 or >= 1)
        {
            throw new Sgp4Exception(1, $"satellite {tle.SatelliteNumber}: eccentricity {_ecco} outside 0 ≤ e < 1");
        }

        var ss = (78.0 / EarthRadiusKm) + 1.0;
        var qzms2t = Math.Pow((120.0 - 78.0) / EarthRadiusKm, 4);
        _isimp = rp < (220.0 / EarthRadiusKm) + 1.0;
        var sfour = ss;
        var qzms24 = qzms2t;
        var perige = (rp - 1.0) * EarthRadiusKm;
        if (perige < 156.0)
        {
            // Low perigee: the atmosphere model's s parameter moves down (STR#3 p. 10).
            sfour = perige < 98.0 ? 20.0 : perige - 78.0;
            qzms24 = Math.Pow((120.0 - sfour) / EarthRadiusKm, 4);
            sfour = (sfour / EarthRadiusKm) + 1.0;
        }

        var pinvsq = 1.0 / posq;
        var tsi = 1.0 / (ao - sfour);
        _eta = ao * _ecco * tsi;
        var etasq = _eta * _eta;
        var eeta = _ecco * _eta;
        var psisq = Math.Abs(1.0 - etasq);
        var coef = qzms24 * Math.Pow(tsi, 4);
        var coef1 = coef / Math.Pow(psisq, 3.5);
        var cc2 = coef1 * _noUnkozai * ((ao * (1.0 + (1.5 * etasq) + (eeta * (4.0 + etasq))))
            + (0.375 * J2 * tsi / psisq * _con41 * (8.0 + (3.0 * etasq * (8.0 + etasq)))));
        _cc1 = _bstar * cc2;
        var cc3 = _ecco > 1.0e-4 ? -2.0 * coef * tsi * J3OverJ2 * _noUnkozai * sinio / _ecco : 0.0;
        _x1mth2 = 1.0 - cosio2;
        _cc4 = 2.0 * _noUnkozai * coef1 * ao * omeosq * (
            (_eta * (2.0 + (0.5 * etasq))) + (_ecco * (0.5 + (2.0 * etasq)))
            - (J2 * tsi / (ao * psisq) * ((-3.0 * _con41 * (1.0 - (2.0 * eeta) + (etasq * (1.5 - (0.5 * eeta)))))
                + (0.75 * _x1mth2 * ((2.0 * etasq) - (eeta * (1.0 + etasq))) * Math.Cos(2.0 * _argpo)))));
        _cc5 = 2.0 * coef1 * ao * omeosq * (1.0 + (2.75 * (etasq + eeta)) + (eeta * etasq));
        var cosio4 = cosio2 * cosio2;
        var temp1 = 1.5 * J2 * pinvsq * _noUnkozai;
        var temp2 = 0.5 * temp1 * J2 * pinvsq;
        var temp3 = -0.46875 * J4 * pinvsq * pinvsq * _noUnkozai;
        _mdot = _noUnkozai + (0.5 * temp1 * rteosq * _con41) + (0.0625 * temp2 * rteosq * (13.0 - (78.0 * cosio2) + (137.0 * cosio4)));
        _argpdot = (-0.5 * temp1 * con42) + (0.0625 * temp2 * (7.0 - (114.0 * cosio2) + (395.0 * cosio4)))
            + (temp3 * (3.0 - (36.0 * cosio2) + (49.0 * cosio4)));
        var xhdot1 = -temp1 * cosio;
        _nodedot = xhdot1 + (((0.5 * temp2 * (4.0 - (19.0 * cosio2))) + (2.0 * temp3 * (3.0 - (7.0 * cosio2)))) * cosio);
        _omgcof = _bstar * cc3 * Math.Cos(_argpo);
        _xmcof = _ecco > 1.0e-4 ? -X2o3 * coef * _bstar / eeta : 0.0;
        _nodecf = 3.5 * omeosq * xhdot1 * _cc1;
        _t2cof = 1.5 * _cc1;
        // Avoid a division by zero at i = 180° (sgp4init temp4).
        _xlcof = Math.Abs(cosio + 1.0) > 1.5e-12
            ? -0.25 * J3OverJ2 * sinio * (3.0 + (5.0 * cosio)) / (1.0 + cosio)
            : -0.25 * J3OverJ2 * sinio * (3.0 + (5.0 * cosio)) / 1.5e-12;
        _aycof = -0.5 * J3OverJ2 * sinio;
        _delmo = Math.Pow(1.0 + (_eta * Math.Cos(_mo)), 3);
        _sinmao = Math.Sin(_mo);
        _x7thm1 = (7.0 * cosio2) - 1.0;

        if (!_isimp)
        {
            var cc1sq = _cc1 * _cc1;
            _d2 = 4.0 * ao * tsi * cc1sq;
            var temp = _d2 * tsi * _cc1 / 3.0;
            _d3 = ((17.0 * ao) + sfour) * temp;
            _d4 = 0.5 * temp * ao * tsi * ((221.0 * ao) + (31.0 * sfour)) * _cc1;
            _t3cof = _d2 + (2.0 * cc1sq);
            _t4cof = 0.25 * ((3.0 * _d3) + (_cc1 * ((12.0 * _d2) + (10.0 * cc1sq))));
            _t5cof = 0.2 * ((3.0 * _d4) + (12.0 * _cc1 * _d3) + (6.0 * _d2 * _d2) + (15.0 * cc1sq * ((2.0 * _d2) + cc1sq)));
        }
    }

    public TwoLineElements Elements { get; }

    /// <summary>TEME state at <paramref name="utc"/>.</summary>
    public StateVector Propagate(DateTime utc) =>
        // DateTime arithmetic keeps 100 ns; a Julian day in a double keeps only ~40 µs (0.3 m of LEO track).
        PropagateMinutes((utc.ToUniversalTime() - Elements.EpochUtc).Ticks / (double)TimeSpan.TicksPerMinute);

    /// <summary>TEME state <paramref name="minutesSinceEpoch"/> after the TLE epoch (Vallado's <c>sgp4(satrec, tsince)</c>).</summary>
    public StateVector PropagateMinutes(double minutesSinceEpoch)
    {
        var t = minutesSinceEpoch;
        var xmdf = _mo + (_mdot * t);
        var argpdf = _argpo + (_argpdot * t);
        var nodedf = _nodeo + (_nodedot * t);
        var argpm = argpdf;
        var mm = xmdf;
        var t2 = t * t;
        var nodem = nodedf + (_nodecf * t2);
        var tempa = 1.0 - (_cc1 * t);
        var tempe = _bstar * _cc4 * t;
        var templ = _t2cof * t2;
        if (!_isimp)
        {
            var delomg = _omgcof * t;
            var delm = _xmcof * (Math.Pow(1.0 + (_eta * Math.Cos(xmdf)), 3) - _delmo);
            var tempd = delomg + delm;
            mm = xmdf + tempd;
            argpm = argpdf - tempd;
            var t3 = t2 * t;
            var t4 = t3 * t;
            tempa = tempa - (_d2 * t2) - (_d3 * t3) - (_d4 * t4);
            tempe += _bstar * _cc5 * (Math.Sin(mm) - _sinmao);
            templ = templ + (_t3cof * t3) + (t4 * (_t4cof + (t * _t5cof)));
        }

        var nm = _noUnkozai;
        var em = _ecco;
        var inclm = _inclo;
        if (nm <= 0.0)
        {
            throw new Sgp4Exception(2, $"mean motion {nm} ≤ 0 at {t:0.###} min");
        }

        var am = Math.Pow(Xke / nm, X2o3) * tempa * tempa;
        nm = Xke / Math.Pow(am, 1.5);
        em -= tempe;
        if (em >= 1.0 || em < -0.001)
        {
            throw new Sgp4Exception(1, $"mean eccentricity {em:0.######} outside −0.001 ≤ e < 1 at {t:0.###} min (decayed?)");
        }

        if (em < 1.0e-6)
        {
            em = 1.0e-6;
        }

        mm += _noUnkozai * templ;
        var xlm = mm + argpm + nodem;
        nodem %= TwoPi;
        argpm %= TwoPi;
        xlm %= TwoPi;
        mm = (xlm - argpm - nodem) % TwoPi;

        var sinip = Math.Sin(inclm);
        var cosip = Math.Cos(inclm);

        // Long-period periodics.
        var axnl = em * Math.Cos(argpm);
        var temp0 = 1.0 / (am * (1.0 - (em * em)));
        var aynl = (em * Math.Sin(argpm)) + (temp0 * _aycof);
        var xl = mm + argpm + nodem + (temp0 * _xlcof * axnl);

        // Kepler's equation, Newton–Raphson with the step clamped to ±0.95 rad.
        var u = (xl - nodem) % TwoPi;
        var eo1 = u;
        var tem5 = 9999.9;
        double sineo1 = 0, coseo1 = 0;
        for (var ktr = 1; Math.Abs(tem5) >= 1.0e-12 && ktr <= 10; ktr++)
        {
            sineo1 = Math.Sin(eo1);
            coseo1 = Math.Cos(eo1);
            tem5 = 1.0 - (coseo1 * axnl) - (sineo1 * aynl);
            tem5 = (u - (aynl * coseo1) + (axnl * sineo1) - eo1) / tem5;
            if (Math.Abs(tem5) >= 0.95)
            {
                tem5 = tem5 > 0.0 ? 0.95 : -0.95;
            }

            eo1 += tem5;
        }

        // Short-period periodics.
        var ecose = (axnl * coseo1) + (aynl * sineo1);
        var esine = (axnl * sineo1) - (aynl * coseo1);
        var el2 = (axnl * axnl) + (aynl * aynl);
        var pl = am * (1.0 - el2);
        if (pl < 0.0)
        {
            throw new Sgp4Exception(4, $"semi-latus rectum {pl} < 0 at {t:0.###} min");
        }

        var rl = am * (1.0 - ecose);
        var rdotl = Math.Sqrt(am) * esine / rl;
        var rvdotl = Math.Sqrt(pl) / rl;
        var betal = Math.Sqrt(1.0 - el2);
        var temp = esine / (1.0 + betal);
        var sinu = am / rl * (sineo1 - aynl - (axnl * temp));
        var cosu = am / rl * (coseo1 - axnl + (aynl * temp));
        var su = Math.Atan2(sinu, cosu);
        var sin2u = (cosu + cosu) * sinu;
        var cos2u = 1.0 - (2.0 * sinu * sinu);
        temp = 1.0 / pl;
        var temp1 = 0.5 * J2 * temp;
        var temp2 = temp1 * temp;

        var mrt = (rl * (1.0 - (1.5 * temp2 * betal * _con41))) + (0.5 * temp1 * _x1mth2 * cos2u);
        su -= 0.25 * temp2 * _x7thm1 * sin2u;
        var xnode = nodem + (1.5 * temp2 * cosip * sin2u);
        var xinc = inclm + (1.5 * temp2 * cosip * sinip * cos2u);
        var mvt = rdotl - (nm * temp1 * _x1mth2 * sin2u / Xke);
        var rvdot = rvdotl + (nm * temp1 * ((_x1mth2 * cos2u) + (1.5 * _con41)) / Xke);

        var sinsu = Math.Sin(su);
        var cossu = Math.Cos(su);
        var snod = Math.Sin(xnode);
        var cnod = Math.Cos(xnode);
        var sini = Math.Sin(xinc);
        var cosi = Math.Cos(xinc);
        var xmx = -snod * cosi;
        var xmy = cnod * cosi;
        var ux = (xmx * sinsu) + (cnod * cossu);
        var uy = (xmy * sinsu) + (snod * cossu);
        var uz = sini * sinsu;
        var vx = (xmx * cossu) - (cnod * sinsu);
        var vy = (xmy * cossu) - (snod * sinsu);
        var vz = sini * cossu;

        if (mrt < 1.0)
        {
            throw new Sgp4Exception(6, $"satellite has decayed (radius {mrt * EarthRadiusKm:0} km) at {t:0.###} min");
        }

        var r = mrt * EarthRadiusKm;
        return new StateVector(
            r * ux,
            r * uy,
            r * uz,
            ((mvt * ux) + (rvdot * vx)) * KmPerSec,
            ((mvt * uy) + (rvdot * vy)) * KmPerSec,
            ((mvt * uz) + (rvdot * vz)) * KmPerSec);
    }
}

using System.CommandLine;
using System.Globalization;
using System.IO.Ports;
using System.Text.Json;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Cli.Commands;

/// <summary>
/// <c>tacrs-hil modbus read|write|scan</c>: poke Modbus equipment on a bench without writing a procedure.
/// Addresses are zero-based protocol addresses (what goes on the wire), not 40001-style references.
/// Exit codes: 0 done, 1 device or link error, 2 bad arguments.
/// </summary>
public static class ModbusCommand
{
    private sealed class Common
    {
        public Option<string> Tcp { get; } = new("--tcp") { Description = "Modbus/TCP endpoint HOST:PORT" };
        public Option<string> Rtu { get; } = new("--rtu") { Description = "Serial device for Modbus RTU, e.g. /dev/ttyUSB0" };
        public Option<string> Baud { get; } = new("--baud") { Description = "RTU baud rate (default 19200)" };
        public Option<string> Parity { get; } = new("--parity") { Description = "RTU parity: none, even (default) or odd" };
        public Option<string> Framing { get; } = new("--framing") { Description = "rtu or tcp (default: tcp for --tcp, rtu for --rtu)" };
        public Option<string> Unit { get; } = new("--unit") { Description = "Unit (slave) id, default 1" };
        public Option<string> Table { get; } = new("--table") { Description = "holding (default), input, coils or discrete" };
        public Option<string> Address { get; } = new("--address") { Description = "Zero-based protocol address (decimal or 0x hex)" };
        public Option<string> Map { get; } = new("--map") { Description = "Register map YAML (fixtures/registers/*.yaml)" };
        public Option<string> Name { get; } = new("--name") { Description = "Point name in the map" };
        public Option<string> Timeout { get; } = new("--timeout") { Description = "Response timeout, e.g. 500ms (default 1s)" };
        public Option<string> Retries { get; } = new("--retries") { Description = "Retries after a timeout or CRC error (default 1)" };
        public Option<bool> Json { get; } = new("--json") { Description = "Print values as JSON" };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Tcp, Rtu, Baud, Parity, Framing, Unit, Table, Address, Map, Name, Timeout, Retries, Json })
            {
                c.Options.Add(o);
            }

            c.TreatUnmatchedTokensAsErrors = false;
        }
    }

    private sealed class UsageException(string message) : Exception(message);

    public static Command Build()
    {
        var modbus = new Command("modbus", "Read, write and scan Modbus RTU/TCP equipment (zero-based protocol addresses)");

        var read = new Command("read", "Read registers or bits, by address or by map point name");
        var rc = new Common();
        rc.AddTo(read);
        var count = new Option<string>("--count") { Description = "How many registers or bits (default 1)" };
        var poll = new Option<string>("--poll") { Description = "Read again every INTERVAL (e.g. 500ms) until Ctrl+C" };
        var samples = new Option<string>("--samples") { Description = "With --poll: stop after N reads" };
        read.Options.Add(count);
        read.Options.Add(poll);
        read.Options.Add(samples);
        read.SetAction((pr, ct) => Run(pr, rc, ct, () =>
        {
            var n = ParseInt(pr.GetValue(count), "--count", 1, 1, 2000);
            var interval = pr.GetValue(poll) is { } p ? ParseDuration(p, "--poll") : (TimeSpan?)null;
            var max = ParseInt(pr.GetValue(samples), "--samples", int.MaxValue, 1, int.MaxValue);
            return async (ctx, w) =>
            {
            for (var i = 0; i < max; i++)
            {
                await ReadOnceAsync(ctx, n, w, ct);
                if (interval is null)
                {
                    break;
                }

                if (i + 1 < max)
                {
                    await Task.Delay(interval.Value, TimeProvider.System, ct);
                }
            }
            };
        }));

        var write = new Command("write", "Write registers or coils, by address or by map point name");
        var wc = new Common();
        wc.AddTo(write);
        var value = new Option<string>("--value") { Description = "Value(s), comma-separated (raw words, 0/1 for coils; engineering units with --name)" };
        write.Options.Add(value);
        write.SetAction((pr, ct) => Run(pr, wc, ct, () =>
        {
            var text = pr.GetValue(value) ?? throw new UsageException("--value is required");
            return (ctx, w) => WriteOnceAsync(ctx, text, w, ct);
        }));

        var scan = new Command("scan", "Find which unit ids answer on a line (a normal or an exception response both count)");
        var sc = new Common();
        sc.AddTo(scan);
        var units = new Option<string>("--units") { Description = "Range of unit ids to try, e.g. 1-247 (default)" };
        scan.Options.Add(units);
        scan.SetAction((pr, ct) => Run(pr, sc, ct, () =>
        {
            var (lo, hi) = ParseRange(pr.GetValue(units) ?? "1-247");
            return async (ctx, w) =>
            {
            var found = new List<(int Unit, string How)>();
            for (var u = lo; u <= hi; u++)
            {
                try
                {
                    await ReadRawAsync(ctx with { Unit = (byte)u }, 1, ct);
                    found.Add((u, "answers"));
                }
                catch (ModbusSlaveException e)
                {
                    found.Add((u, $"answers with exception {(byte)e.Code} ({e.Code.Describe()})"));
                }
                catch (ModbusException)
                {
                    // Nobody at this address (timeout), or line noise: keep scanning.
                }
            }

            if (ctx.Json)
            {
                w.WriteLine(JsonSerializer.Serialize(found.Select(f => f.Unit)));
            }
            else
            {
                w.WriteLine(found.Count == 0 ? $"no unit answered in {lo}-{hi}" : string.Join(Environment.NewLine, found.Select(f => $"unit {f.Unit}: {f.How}")));
            }
            };
        }));

        modbus.Subcommands.Add(read);
        modbus.Subcommands.Add(write);
        modbus.Subcommands.Add(scan);
        return modbus;
    }

    private sealed record Context(ModbusMaster Master, byte Unit, RegisterTable Table, ushort Address, RegisterMap? Map, string? PointName, bool Json);

    private static async Task<int> Run(ParseResult pr, Common c, CancellationToken ct, Func<Func<Context, TextWriter, Task>> prepare)
    {
        var output = pr.InvocationConfiguration.Output;
        var error = pr.InvocationConfiguration.Error;
        ModbusMaster? master = null;
        try
        {
            if (pr.UnmatchedTokens.Count > 0)
            {
                throw new UsageException($"unexpected argument(s): {string.Join(' ', pr.UnmatchedTokens)}");
            }

            var body = prepare();

            var tcp = pr.GetValue(c.Tcp);
            var rtu = pr.GetValue(c.Rtu);
            if ((tcp is null) == (rtu is null))
            {
                throw new UsageException("give exactly one of --tcp HOST:PORT or --rtu DEVICE");
            }

            var unit = ParseInt(pr.GetValue(c.Unit), "--unit", 1, 0, 255);
            var table = (pr.GetValue(c.Table) ?? "holding") switch
            {
                "holding" => RegisterTable.HoldingRegister,
                "input" => RegisterTable.InputRegister,
                "coils" or "coil" => RegisterTable.Coil,
                "discrete" => RegisterTable.DiscreteInput,
                var t => throw new UsageException($"--table must be holding, input, coils or discrete, not '{t}'"),
            };
            var address = ParseInt(pr.GetValue(c.Address), "--address", 0, 0, 65535);
            var timeout = pr.GetValue(c.Timeout) is { } ts ? ParseDuration(ts, "--timeout") : TimeSpan.FromSeconds(1);
            var retries = ParseInt(pr.GetValue(c.Retries), "--retries", 1, 0, 100);
            RegisterMap? map = null;
            var name = pr.GetValue(c.Name);
            if (pr.GetValue(c.Map) is { } mapPath)
            {
                map = RegisterMap.Load(mapPath);
                if (name is not null && map.Find(name) is null)
                {
                    throw new UsageException($"map {mapPath} has no point '{name}' (points: {string.Join(", ", map.Points.Select(p => p.Name))})");
                }
            }
            else if (name is not null)
            {
                throw new UsageException("--name needs --map FILE");
            }

            var framingText = pr.GetValue(c.Framing);
            var framing = framingText switch
            {
                null => tcp is not null ? ModbusFraming.Tcp : ModbusFraming.Rtu,
                "rtu" => ModbusFraming.Rtu,
                "tcp" => ModbusFraming.Tcp,
                _ => throw new UsageException($"--framing must be rtu or tcp, not '{framingText}'"),
            };

            IByteTransport transport;
            var silent = TimeSpan.Zero;
            if (tcp is not null)
            {
                var i = tcp.LastIndexOf(':');
                if (i <= 0 || !int.TryParse(tcp.AsSpan(i + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                {
                    throw new UsageException($"--tcp must be HOST:PORT, not '{tcp}'");
                }

                transport = await TcpTransport.ConnectAsync(new TcpSpec(tcp[..i], port, TimeSpan.FromSeconds(3)), TimeProvider.System, ct);
            }
            else
            {
                var baud = ParseInt(pr.GetValue(c.Baud), "--baud", 19200, 50, 4_000_000);
                var parity = (pr.GetValue(c.Parity) ?? "even") switch
                {
                    "none" => Parity.None,
                    "even" => Parity.Even,
                    "odd" => Parity.Odd,
                    var p => throw new UsageException($"--parity must be none, even or odd, not '{p}'"),
                };
                var spec = new SerialSpec(rtu!, baud, parity);
                silent = ModbusRtu.SilentInterval(baud, spec.BitsPerCharacter);
                transport = SerialTransport.Open(spec);
            }

            master = new ModbusMaster(transport, new ModbusMasterOptions { Framing = framing, Timeout = timeout, Retries = retries, RtuSilentInterval = silent }, TimeProvider.System);
            await body(new Context(master, (byte)unit, table, (ushort)address, map, name, pr.GetValue(c.Json)), output);
            return ExitCodes.Passed;
        }
        catch (UsageException e)
        {
            error.WriteLine($"modbus: {e.Message}");
            return ExitCodes.ConfigError;
        }
        catch (ConfigException e)
        {
            error.WriteLine(e.Message);
            return ExitCodes.ConfigError;
        }
        catch (Exception e) when (e is ModbusException or TransportException)
        {
            error.WriteLine($"modbus: {e.Message}");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return ExitCodes.Aborted;
        }
        finally
        {
            if (master is not null)
            {
                await master.DisposeAsync();
            }
        }
    }

    private static async Task ReadOnceAsync(Context ctx, int count, TextWriter w, CancellationToken ct)
    {
        if (ctx.Map is { } map)
        {
            var points = ctx.PointName is { } n ? [map[n]] : map.Points;
            var values = new List<(RegisterPoint P, double V)>();
            foreach (var p in points)
            {
                values.Add((p, await ctx.Master.ReadAsync(ctx.Unit, p, ct)));
            }

            w.WriteLine(ctx.Json
                ? JsonSerializer.Serialize(values.ToDictionary(v => v.P.Name, v => v.V))
                : string.Join(Environment.NewLine, values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.P.Name} = {v.V:0.######} {v.P.Unit}").TrimEnd())));
            return;
        }

        var raw = await ReadRawAsync(ctx, count, ct);
        if (ctx.Json)
        {
            w.WriteLine(JsonSerializer.Serialize(new { unit = ctx.Unit, table = TableName(ctx.Table), address = ctx.Address, values = raw }));
            return;
        }

        for (var i = 0; i < raw.Length; i++)
        {
            var a = ctx.Address + i;
            w.WriteLine(ctx.Table is RegisterTable.Coil or RegisterTable.DiscreteInput
                ? string.Create(CultureInfo.InvariantCulture, $"{TableName(ctx.Table)}[{a}] = {raw[i]}")
                : string.Create(CultureInfo.InvariantCulture, $"{TableName(ctx.Table)}[{a}] = {raw[i]} (0x{raw[i]:X4})"));
        }
    }

    private static async Task<int[]> ReadRawAsync(Context ctx, int count, CancellationToken ct)
    {
        switch (ctx.Table)
        {
            case RegisterTable.Coil or RegisterTable.DiscreteInput:
                var bits = new bool[count];
                await ctx.Master.ReadBitsAsync(ctx.Table == RegisterTable.Coil ? ModbusFunction.ReadCoils : ModbusFunction.ReadDiscreteInputs, ctx.Unit, ctx.Address, bits, ct);
                return bits.Select(b => b ? 1 : 0).ToArray();
            default:
                if (count > ModbusLimits.MaxReadRegisters)
                {
                    throw new UsageException($"--count for registers must be 1 to {ModbusLimits.MaxReadRegisters}");
                }

                var regs = new ushort[count];
                await ctx.Master.ReadRegistersAsync(ctx.Table == RegisterTable.HoldingRegister ? ModbusFunction.ReadHoldingRegisters : ModbusFunction.ReadInputRegisters, ctx.Unit, ctx.Address, regs, ct);
                return regs.Select(r => (int)r).ToArray();
        }
    }

    private static async Task WriteOnceAsync(Context ctx, string text, TextWriter w, CancellationToken ct)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ctx.Map is { } map)
        {
            if (ctx.PointName is not { } n || parts.Length != 1 || !ConfigNode.TryParseNumber(parts[0], out var v))
            {
                throw new UsageException("with --map, write needs --name POINT and one numeric --value");
            }

            var p = map[n];
            Span<ushort> probe = stackalloc ushort[2];
            if (!p.Writable)
            {
                throw new UsageException($"'{n}' is read-only");
            }

            if (!p.TryEncode(v, probe, out var why))
            {
                throw new UsageException(why!);
            }

            await ctx.Master.WriteAsync(ctx.Unit, p, v, ct);
            w.WriteLine(ctx.Json ? JsonSerializer.Serialize(new Dictionary<string, double> { [n] = v }) : string.Create(CultureInfo.InvariantCulture, $"{n} <- {v} {p.Unit}").TrimEnd());
            return;
        }

        var values = parts.Select(s => ConfigNode.TryParseInteger(s, out var x) ? x
            : s is "true" or "on" ? 1 : s is "false" or "off" ? 0 : throw new UsageException($"--value '{s}' is not a whole number")).ToArray();
        switch (ctx.Table)
        {
            case RegisterTable.Coil:
                if (values.Any(x => x is not (0 or 1)))
                {
                    throw new UsageException("coil values are 0 or 1");
                }

                if (values.Length == 1)
                {
                    await ctx.Master.WriteSingleCoilAsync(ctx.Unit, ctx.Address, values[0] == 1, ct);
                }
                else
                {
                    await ctx.Master.WriteMultipleCoilsAsync(ctx.Unit, ctx.Address, values.Select(x => x == 1).ToArray(), ct);
                }

                break;
            case RegisterTable.HoldingRegister:
                if (values.Any(x => x is < short.MinValue or > ushort.MaxValue))
                {
                    throw new UsageException("register values are 0 to 65535 (or -32768 to -1 as signed)");
                }

                if (values.Length == 1)
                {
                    await ctx.Master.WriteSingleRegisterAsync(ctx.Unit, ctx.Address, (ushort)values[0], ct);
                }
                else
                {
                    await ctx.Master.WriteMultipleRegistersAsync(ctx.Unit, ctx.Address, values.Select(x => (ushort)x).ToArray(), ct);
                }

                break;
            default:
                throw new UsageException($"the {TableName(ctx.Table)} table is read-only; write holding or coils");
        }

        w.WriteLine(ctx.Json
            ? JsonSerializer.Serialize(new { unit = ctx.Unit, table = TableName(ctx.Table), address = ctx.Address, written = values })
            : string.Create(CultureInfo.InvariantCulture, $"wrote {values.Length} value(s) to {TableName(ctx.Table)}[{ctx.Address}] on unit {ctx.Unit}"));
    }

    private static string TableName(RegisterTable t) => t switch
    {
        RegisterTable.Coil => "coils",
        RegisterTable.DiscreteInput => "discrete",
        RegisterTable.InputRegister => "input",
        _ => "holding",
    };

    private static int ParseInt(string? text, string option, int fallback, int min, int max)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!ConfigNode.TryParseInteger(text, out var v) || v < min || v > max)
        {
            throw new UsageException($"{option} must be a whole number from {min} to {max}, not '{text}'");
        }

        return v;
    }

    private static TimeSpan ParseDuration(string text, string option) =>
        Duration.TryParse(text, out var d) && d > TimeSpan.Zero ? d : throw new UsageException($"{option} must be a duration such as 500ms or 2s, not '{text}'");

    private static (int Lo, int Hi) ParseRange(string text)
    {
        var parts = text.Split('-');
        var lo = ParseInt(parts[0], "--units", 1, 0, 255);
        var hi = parts.Length > 1 ? ParseInt(parts[1], "--units", 247, lo, 255) : lo;
        return (lo, hi);
    }
}

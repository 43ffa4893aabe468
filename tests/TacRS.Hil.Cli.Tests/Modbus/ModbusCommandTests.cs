using System.CommandLine;
using System.Net;
using System.Text.Json;
using TacRS.Hil.Cli.Commands;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Modbus.Simulated;

namespace TacRS.Hil.Cli.Tests.Modbus;

[NonParallelizable]
public class ModbusCommandTests
{
    private PowerSupplyEmulator _psu = null!;
    private IAsyncDisposable _listener = null!;
    private int _port;

    private static string MapPath => RepoPaths.Fixture("registers", "gse-psu.yaml");

    [SetUp]
    public void SetUp()
    {
        _psu = new PowerSupplyEmulator(RegisterMap.Load(MapPath), TimeProvider.System, new Random(1)) { Noise = 0 };
        var l = _psu.Slave.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        _port = l.Endpoint.Port;
        _listener = l;
    }

    [TearDown]
    public async Task TearDown() => await _listener.DisposeAsync();

    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = await ModbusCommand.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = o, Error = e }, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        return (code, o.ToString(), e.ToString());
    }

    [Test]
    public async Task Read_ByAddress_PrintsRegisters()
    {
        var (code, output, err) = await Run("read", "--tcp", $"127.0.0.1:{_port}", "--unit", "1", "--address", "0", "--count", "3");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("holding[0] = 2800 (0x0AF0)").And.Contain("holding[1] = 3000").And.Contain("holding[2] = 3300"));
    }

    [Test]
    public async Task Read_Json_PrintsValuesArray()
    {
        var (code, output, err) = await Run("read", "--tcp", $"127.0.0.1:{_port}", "--table", "coils", "--address", "0", "--count", "2", "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 0, 0 }));
        Assert.That(doc.RootElement.GetProperty("table").GetString(), Is.EqualTo("coils"));
    }

    [Test]
    public async Task WriteByName_ThenReadByName_InEngineeringUnits()
    {
        var (code, _, err) = await Run("write", "--tcp", $"127.0.0.1:{_port}", "--map", MapPath, "--name", "voltage_setpoint", "--value", "24.5");
        Assert.That(code, Is.Zero, err);
        (code, var output, err) = await Run("read", "--tcp", $"127.0.0.1:{_port}", "--map", MapPath, "--name", "voltage_setpoint");
        Assert.That(code, Is.Zero, err);
        Assert.That(output.Trim(), Is.EqualTo("voltage_setpoint = 24.5 V"));
        (code, output, _) = await Run("read", "--tcp", $"127.0.0.1:{_port}", "--map", MapPath, "--name", "model_id", "--json");
        Assert.That(output.Trim(), Is.EqualTo("{\"model_id\":20563}"));
    }

    [Test]
    public async Task Write_RawRegistersAndCoils()
    {
        var (code, _, err) = await Run("write", "--tcp", $"127.0.0.1:{_port}", "--table", "coils", "--address", "0", "--value", "1");
        Assert.That(code, Is.Zero, err);
        Assert.That(_psu.Store.Get("output_enable"), Is.EqualTo(1));
        (code, _, err) = await Run("write", "--tcp", $"127.0.0.1:{_port}", "--address", "0", "--value", "1200,2000");
        Assert.That(code, Is.Zero, err);
        Assert.That(_psu.Store.Get("current_limit"), Is.EqualTo(2.0));
    }

    [Test]
    public async Task Read_Poll_ReadsEverySample()
    {
        var (code, output, err) = await Run("read", "--tcp", $"127.0.0.1:{_port}", "--address", "0", "--poll", "10ms", "--samples", "3");
        Assert.That(code, Is.Zero, err);
        Assert.That(output.Split('\n').Count(l => l.StartsWith("holding[0]", StringComparison.Ordinal)), Is.EqualTo(3));
    }

    [Test]
    public async Task Scan_FindsTheAnsweringUnit()
    {
        var (code, output, err) = await Run("scan", "--tcp", $"127.0.0.1:{_port}", "--units", "1-3", "--timeout", "100ms", "--retries", "0");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("unit 1: answers"));
        Assert.That(output, Does.Not.Contain("unit 2"));
    }

    [TestCase("read", "--address", "0")]
    [TestCase("read", "--tcp", "nohostport", "--address", "0")]
    [TestCase("read", "--tcp", "127.0.0.1:1", "--rtu", "/dev/ttyUSB0")]
    [TestCase("read", "--tcp", "127.0.0.1:1", "--table", "holdings")]
    [TestCase("read", "--tcp", "127.0.0.1:1", "--address", "70000")]
    [TestCase("read", "--tcp", "127.0.0.1:1", "--name", "x")]
    [TestCase("read", "--tcp", "127.0.0.1:1", "--poll", "soon")]
    [TestCase("read", "--tcp", "127.0.0.1:1", "extra")]
    public async Task BadArguments_ExitTwo_WithMessage(params string[] args)
    {
        var (code, _, err) = await Run(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("modbus: "));
    }

    [Test]
    public async Task WriteOutOfRangeByName_ExitTwo()
    {
        var (code, _, err) = await Run("write", "--tcp", $"127.0.0.1:{_port}", "--map", MapPath, "--name", "voltage_setpoint", "--value", "99");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("outside the range"));
    }

    [Test]
    public async Task DeviceErrors_ExitOne()
    {
        var (code, _, err) = await Run("read", "--tcp", $"127.0.0.1:{_port}", "--address", "50");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("illegal data address"));
        _psu.Slave.Faults.Silent = true;
        (code, _, err) = await Run("read", "--tcp", $"127.0.0.1:{_port}", "--timeout", "100ms", "--retries", "0");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("no response within 100 ms"));
        (code, _, err) = await Run("read", "--rtu", "/dev/ttyNOPE9");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("/dev/ttyNOPE9").And.Contain("not found"));
    }
}

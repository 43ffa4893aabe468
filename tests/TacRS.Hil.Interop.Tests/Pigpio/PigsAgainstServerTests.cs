using System.Device.Gpio;
using System.Device.I2c;
using System.Diagnostics;
using System.Globalization;
using TacRS.Hil.Simulation.Gpio;
using TacRS.Hil.Simulation.I2c;
using TacRS.Hil.Simulation.Serve;

namespace TacRS.Hil.Interop.Tests.Pigpio;

/// <summary>
/// Our pigpio server against pigpio's own C command-line client, <c>pigs</c> (Debian package
/// pigpio-tools): an independent implementation of the socket protocol, with its own error texts.
/// Each pigs invocation is one socket session; a missing pigs fails the test, never skips it.
/// </summary>
[NonParallelizable]
public class PigsAgainstServerTests
{
    private const string Pigs = "/usr/bin/pigs";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private ServedChip _bench = null!;

    [SetUp]
    public void SetUp()
    {
        if (!File.Exists(Pigs))
        {
            Assert.Fail($"{Pigs} is missing: install the Debian package 'pigpio-tools'");
        }

        _bench = new ServedChip();
    }

    [TearDown]
    public async Task TearDown()
    {
        await _bench.DisposeAsync();
    }

    [TestCase("hwver", "10498321")]
    [TestCase("pigpv", "79")]
    [TestCase("modes 23 w w 23 1 r 23 mg 23", "1\n1")]
    [TestCase("pud 27 u r 27 pud 27 d r 27", "1\n0")]
    [TestCase("fg 17 1000", "")]
    public async Task Pigs_Command_AnswersLikePigpiod(string commands, string expected)
    {
        var (code, output) = await RunAsync(commands);

        Assert.That(output, Is.EqualTo(expected));
        Assert.That(code, Is.Zero);
    }

    [Test]
    public async Task Pigs_Write_ReachesTheChip_AndBankReadShowsIt()
    {
        _bench.Chip.Drive(17, PinValue.High);

        var (code, output) = await RunAsync("w 24 1 br1");

        Assert.That(code, Is.Zero);
        Assert.That(_bench.Chip.IsOutput(24) && _bench.Chip.Level(24) == PinValue.High, Is.True);
        Assert.That(uint.Parse(output, NumberStyles.HexNumber, CultureInfo.InvariantCulture), Is.EqualTo((1u << 17) | (1u << 24)));
    }

    [Test]
    public async Task Pigs_I2c_ReadsTheIna219ThroughDeviceSmbusAndZip()
    {
        // Handle 0 is the first free one; config 0x399F arrives MSB first, so the SMBus word is 0x9F39.
        var (code, output) = await RunAsync("i2co 1 0x40 0 i2crw 0 0 i2cwd 0 5 16 0 i2cwd 0 5 i2crd 0 2 i2cz 0 7 1 5 6 2 0 i2cc 0");

        Assert.That(code, Is.Zero, output);
        Assert.That(output.Split('\n'), Is.EqualTo(new[] { "0", "40761", "2 16 0", "2 16 0" }));
        Assert.That(_bench.Rail.Calibration, Is.EqualTo(0x1000));
    }

    [Test]
    public async Task Pigs_I2cHandle_OutlivesItsConnection_LikePigpiod()
    {
        // Each pigs run is one socket session: the handle one run opened serves the next, as pigpiod's does.
        var opened = await RunAsync("i2co 1 0x40 0");
        var read = await RunAsync("i2crw 0 0");
        var closed = await RunAsync("i2cc 0");
        var again = await RunAsync("i2crw 0 0");
        Assert.Multiple(() =>
        {
            Assert.That(opened, Is.EqualTo((0, "0")));
            Assert.That(read, Is.EqualTo((0, "40761")), "config register 0x399F read through the handle of an earlier connection");
            Assert.That(closed.Code, Is.Zero);
            Assert.That(again.Output, Does.Contain("ERROR: unknown handle"), "i2cc frees it");
        });
    }

    [TestCase("r 60", "GPIO not 0-53")]
    [TestCase("pwm 18 128", "unknown command")]
    [TestCase("i2co 1 0x55 0 i2crs 0", "I2C read failed")]
    [TestCase("i2cc 7", "unknown handle")]
    public async Task Pigs_Refused_PrintsPigpiosErrorText(string commands, string text)
    {
        var (code, output) = await RunAsync(commands);

        Assert.That(output, Does.Contain("ERROR: " + text));
        Assert.That(code, Is.Not.Zero);
    }

    private async Task<(int Code, string Output)> RunAsync(string commands)
    {
        var psi = new ProcessStartInfo(Pigs) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["PIGPIO_ADDR"] = "127.0.0.1";
        psi.Environment["PIGPIO_PORT"] = _bench.Server.Port.ToString(CultureInfo.InvariantCulture);
        foreach (var a in commands.Split(' '))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Bound, TimeProvider.System);
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"pigs {commands} did not finish within {Bound.TotalSeconds} s");
        }

        var output = ((await stdout) + (await stderr)).Trim().Replace("\r", string.Empty, StringComparison.Ordinal);
        TestContext.Out.WriteLine($"pigs {commands} -> [{p.ExitCode}] {output}");
        return (p.ExitCode, output);
    }
}

using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Simulation.Gse;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Simulation.Tests.Gse;

/// <summary>The umbilical relay box's insulation tester: over-range with J1 open, the harness's isolation when mated, the breakdown fault.</summary>
public sealed class UmbilicalIsolationTests
{
    [Test]
    public void Isolation_FollowsJ1AndTheBreakdownFault()
    {
        var box = new UmbilicalRelayBoxEmulator(RegisterMap.Load(RepoPaths.Fixture("registers", "umbilical-relays.yaml")), new FakeTimeProvider());

        box.SetConnectorMated(false);
        var open = box.Store.Get("isolation_resistance");
        box.SetConnectorMated(true);
        var mated = box.Store.Get("isolation_resistance");
        box.InsulationBreakdown = true;
        var broken = box.Store.Get("isolation_resistance");
        box.InsulationBreakdown = false;
        var healed = box.Store.Get("isolation_resistance");

        Assert.Multiple(() =>
        {
            Assert.That(open, Is.EqualTo(UmbilicalRelayBoxEmulator.IsolationOverRangeMOhm));
            Assert.That(mated, Is.EqualTo(120).Within(1e-3));
            Assert.That(broken, Is.EqualTo(0.3).Within(1e-6));
            Assert.That(healed, Is.EqualTo(mated));
        });
    }
}

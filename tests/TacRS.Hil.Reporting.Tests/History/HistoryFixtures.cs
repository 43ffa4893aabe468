using System.Text;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Reporting.Tests.Html;

namespace TacRS.Hil.Reporting.Tests.History;

internal static class HistoryFixtures
{
    public static string NewStorePath() =>
        Path.Combine(RecordFixtures.ScratchRoot(), "history-" + Guid.NewGuid().ToString("N")[..8], "history.db");

    /// <summary>
    /// A fixture record as another night's run: its own run id and wall-clock start, and the final
    /// <c>payload.bus_current</c> sample of the soak replaced by <paramref name="busCurrent"/>.
    /// </summary>
    public static RunRecord Night(string fixture, int night, double? busCurrent = null, string rig = "sim-laptop")
    {
        var record = RunRecord.Load(RecordFixtures.RecordPath(fixture));
        var lastCurrentSeq = record.Events.OfType<MeasurementRecorded>().Last(m => m.Name == "payload.bus_current").Seq;
        var sb = new StringBuilder();
        foreach (var e in record.Events)
        {
            RunEvent changed = e switch
            {
                RunStarted s => s with
                {
                    RunId = $"night-{night:D3}-{fixture}-{rig}",
                    Rig = rig,
                    WallClockStart = new DateTimeOffset(2026, 11, 1, 2, 0, 0, TimeSpan.Zero).AddDays(night),
                },
                MeasurementRecorded m when m.Seq == lastCurrentSeq && busCurrent is { } v => m with
                {
                    Value = v,
                    Outcome = v <= 1.5 ? "PASS" : "FAIL",
                },
                _ => e,
            };
            sb.Append(RunEventJson.Serialize(changed)).Append('\n');
        }

        return RunRecord.Parse(sb.ToString(), $"night-{night}/record.jsonl");
    }
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Serilog;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Simulation.Serve;

/// <summary>
/// The rehearsal bench's console: what hands would do to a real bench, done to the served models.
/// On a real bench an engineer mates the umbilical or releases the separation-switch simulator when
/// a prompt asks; behind <c>sim serve</c> nobody can, so the run (or an engineer with <c>nc</c>)
/// says so here, one line per command on loopback TCP, one reply line each:
/// <list type="bullet">
/// <item><c>prompt ID</c>: the operator confirmed prompt ID; do what the rig's
///   <c>simulation.harness.operator-actions</c> maps to it. <c>ok ACTION</c>, or <c>ok none</c>.</item>
/// <item><c>step ID</c>: the run started step ID; fire its <c>at-step</c> faults. <c>ok N</c> (faults fired).</item>
/// <item><c>do ACTION</c>: a harness action (<c>mate umbilical_present</c>, <c>separate</c>, <c>restack</c> …). <c>ok</c>.</item>
/// <item><c>contacts</c>: <c>ok sep_a=closed sep_b=closed …</c>.</item>
/// <item><c>help</c>.</item>
/// </list>
/// Anything else, or an action the harness does not know, answers <c>error …</c> and changes nothing.
/// Runs on the bench's scheduler like every other served endpoint, so the models see one caller at a time.
/// </summary>
public sealed class BenchConsole(SimulatedBench bench, ILogger log)
{
    /// <summary>Longest command line accepted; a longer one ends the session (not a console client).</summary>
    public const int MaxLine = 512;

    private const string Usage = "prompt ID | step ID | do ACTION | contacts | help";

    /// <summary>Executes one command line; returns the reply line, or null for a blank line.</summary>
    public string? Execute(string line)
    {
        var parts = line.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        switch (parts)
        {
            case []:
                return null;
            case ["prompt", var id]:
                if (!bench.OperatorAnswered(id))
                {
                    return "ok none";
                }

                var action = bench.Plant.Harness.Options.OperatorActions[id];
                log.Information("Bench console: prompt {PromptId} confirmed; did {Action}", id, action);
                return "ok " + action;
            case ["step", var id]:
                var fired = bench.Faults.All.Count(f => f.HasFired);
                bench.Faults.StepStarted(id);
                var n = bench.Faults.All.Count(f => f.HasFired) - fired;
                if (n > 0)
                {
                    log.Information("Bench console: step {Step} started; {Count} fault(s) fired", id, n);
                }

                return "ok " + n.ToString(CultureInfo.InvariantCulture);
            case ["do", var what]:
                try
                {
                    bench.Plant.Harness.Perform(what);
                }
                catch (ArgumentException e)
                {
                    return "error " + OneLine(e.Message);
                }

                log.Information("Bench console: did {Action}", what);
                return "ok";
            case ["contacts"]:
                return "ok " + string.Join(' ', bench.Plant.Harness.Contacts.Order(StringComparer.Ordinal)
                    .Select(c => $"{c}={(bench.Plant.Harness.IsClosed(c) ? "closed" : "open")}"));
            case ["help"]:
                return "ok " + Usage;
            default:
                return $"error unknown command '{OneLine(line.Trim())}' ({Usage})";
        }
    }

    /// <summary>Accepts console connections until cancelled, at most <paramref name="maxConnections"/> at once; each is served line by line.</summary>
    public async Task ServeAsync(TcpListener listener, CancellationToken cancellationToken, int maxConnections = ServeLimits.DefaultMaxConnections)
    {
        var sessions = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                sessions.RemoveAll(s => s.IsCompleted);
                if (sessions.Count >= maxConnections)
                {
                    log.Debug("Bench console connection from {Peer} refused: {Max} already served", client.Client.RemoteEndPoint, maxConnections);
                    client.Client.LingerState = new LingerOption(true, 0);
                    client.Dispose();
                    continue;
                }

                log.Information("Bench console connection from {Peer}", client.Client.RemoteEndPoint);
                sessions.Add(SessionAsync(client, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        await Task.WhenAll(sessions);
    }

    private async Task SessionAsync(TcpClient client, CancellationToken cancellationToken)
    {
        client.NoDelay = true;
        await using var link = TcpTransport.FromAccepted(client.Client);
        var lines = new LineReader(link, MaxLine);
        try
        {
            while (await lines.ReadLineAsync(cancellationToken) is { } line)
            {
                if (Execute(line) is { } reply)
                {
                    await bench.Plant.Harness.SettledAsync(cancellationToken); // acknowledged once the run's next reading sees it
                    await link.WriteAsync(Encoding.UTF8.GetBytes(reply + "\n"), cancellationToken);
                }
            }
        }
        catch (TransportException e)
        {
            // A line too long (not a console client), or the client went away.
            log.Information("Bench console session from {Peer} ended: {Reason}", link.Path, e.Reason);
        }
        catch (OperationCanceledException)
        {
            // sim serve is stopping.
        }
    }

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Serilog;
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
    /// <summary>Longest command line accepted; a longer one ends the session (it is not a console client).</summary>
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

    /// <summary>Accepts console connections until cancelled; each is served line by line.</summary>
    public async Task ServeAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        var sessions = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                log.Information("Bench console connection from {Peer}", client.Client.RemoteEndPoint);
                sessions.Add(SessionAsync(client, cancellationToken));
                sessions.RemoveAll(s => s.IsCompleted);
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
        using (client)
        {
            client.NoDelay = true;
            var stream = client.GetStream();
            var buffer = new byte[MaxLine + 1];
            var count = 0;
            try
            {
                while (true)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(count), cancellationToken);
                    if (n == 0)
                    {
                        return;
                    }

                    count += n;
                    int newline;
                    while ((newline = Array.IndexOf(buffer, (byte)'\n', 0, count)) >= 0)
                    {
                        var line = Encoding.UTF8.GetString(buffer, 0, newline).TrimEnd('\r');
                        buffer.AsSpan(newline + 1, count - newline - 1).CopyTo(buffer);
                        count -= newline + 1;
                        if (Execute(line) is { } reply)
                        {
                            await stream.WriteAsync(Encoding.UTF8.GetBytes(reply + "\n"), cancellationToken);
                        }
                    }

                    if (count == buffer.Length)
                    {
                        await stream.WriteAsync(Encoding.UTF8.GetBytes($"error line longer than {MaxLine} bytes\n"), cancellationToken);
                        return;
                    }
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away, or sim serve is stopping.
            }
        }
    }

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');
}

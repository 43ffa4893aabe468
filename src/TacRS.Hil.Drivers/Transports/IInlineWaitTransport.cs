namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// A hardware transport whose reads can first wait a short, bounded time on the calling thread (one
/// poll(2), one thread wake) before handing the wait to another thread. A request/response client that
/// expects its answer within that time (the Modbus master on a fast link) turns it on: it halves the
/// thread wakes per transaction and with them most of the latency and CPU a managed client pays over a
/// C one. The read still returns (pending) after at most <see cref="InlineWait"/>, so callers that
/// start a read and then do something else are only delayed by that much. Never implemented by
/// in-process (simulation) transports.
/// </summary>
public interface IInlineWaitTransport
{
    /// <summary>Zero (default): never wait on the caller's thread.</summary>
    TimeSpan InlineWait { get; set; }
}

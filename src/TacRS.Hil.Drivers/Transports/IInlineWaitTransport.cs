namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// A hardware transport that can wait for data on the calling thread-pool thread (one poll(2), one
/// thread wake per wait) instead of handing the wait to another thread. A request/response client
/// whose reads are always bounded by a timeout (the Modbus master) turns it on: it halves the thread
/// wakes per transaction and with them most of the latency and CPU a managed client pays over a C one.
/// Not for links with long idle reads or with a reader and a writer racing on one thread: while a read
/// waits inline its thread is busy. Never implemented by in-process (simulation) transports.
/// </summary>
public interface IInlineWaitTransport
{
    bool InlineWaits { get; set; }
}

namespace TacRS.Hil.Testing;

/// <summary>
/// Runs a simulated session on its own thread and fails the test if it has not finished within a wall-clock
/// bound: a livelock at one virtual instant (the bug class these tests pin) would otherwise hang the suite.
/// A hung thread is left running in the background; the test has already failed.
/// </summary>
internal static class HangGuard
{
    public static T Run<T>(Func<T> session, TimeSpan bound, string what)
    {
        T? result = default;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = session();
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        {
            IsBackground = true,
            Name = what,
        };
        thread.Start();
        if (!thread.Join(bound))
        {
            Assert.Fail($"{what} did not finish within {bound.TotalSeconds} s of wall time (hung or spinning at one virtual instant)");
        }

        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }

        return result!;
    }
}

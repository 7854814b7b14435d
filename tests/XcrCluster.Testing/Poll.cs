namespace XcrCluster.Testing;

/// <summary>Waits for a condition another process or thread makes true (no fixed sleeps): checks it every 50 ms
/// and fails with what was awaited when the limit passes.</summary>
public static class Poll
{
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? limit = null)
        => UntilAsync(() => Task.FromResult(condition()), what, limit);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(120));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(50);
        }
    }
}

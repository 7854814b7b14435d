namespace XcrCluster.Xapi;

public enum VdiFormat
{
    Vhd,
    Raw,
}

/// <summary>An export in progress: read <see cref="Content"/> to the end, then <see cref="CompleteAsync"/>
/// confirms the pool's task succeeded. Disposing closes the connection and destroys the task.</summary>
public sealed class VdiExport(XapiClient client, string task, StallGuardStream content) : IAsyncDisposable
{
    public string Task { get; } = task;

    /// <summary>The body as it arrives, with backpressure (nothing is buffered beyond the socket).</summary>
    public StallGuardStream Content { get; } = content;

    public async Task CompleteAsync(CancellationToken ct = default) => await client.WaitForTaskAsync(Task, ct).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync().ConfigureAwait(false);
        await client.DestroyTaskAsync(Task).ConfigureAwait(false);
    }
}

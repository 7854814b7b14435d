namespace XcrCluster.Web.Tests;

/// <summary>Each test on its own node, pools and browser (<see cref="WebNode"/>), all stopped whatever the test did.</summary>
public abstract class WebTest : IAsyncLifetime
{
    protected WebNode Web { get; private set; } = null!;

    /// <summary>The node serves HTTPS (no pools then, see <see cref="WebNode.StartAsync"/>).</summary>
    protected virtual bool Https => false;

    public async Task InitializeAsync() => Web = await WebNode.StartAsync(Https);

    public async Task DisposeAsync()
    {
        if (Web is not null)
        {
            await Web.DisposeAsync();
        }
    }
}

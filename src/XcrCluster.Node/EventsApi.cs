using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Http.Features;
using XcrCluster.Actors;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>
/// Server-sent event streams: a run's live progress (ends with the run), every run's progress, and the cluster's
/// member changes (both until the client leaves). Each request has its own <see cref="EventFeed"/>; events are
/// flushed one by one, with a keep-alive comment every 15 s. Rates and time left are computed here, per disk
/// and target, from the samples the request saw (<see cref="ProgressRates"/>).
/// </summary>
public static class EventsApi
{
    /// <summary>How often a run's stream re-reads the books for VMs still going: an end message can be lost (at
    /// most once delivery, a node that died), the entity's record cannot.</summary>
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(2);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void Map(WebApplication app, ClusterKey key)
    {
        app.MapGet("/api/runs/{runId}/events", (string runId, HttpContext context, ActorSystem system, ActorRegistry registry) =>
            UntilGone(context, () => RunEventsAsync(runId, context, system, registry)));
        app.MapGet("/api/events", (HttpContext context, ActorSystem system) => UntilGone(context, async () =>
        {
            await using var feed = await EventFeed.OpenAsync(system, EventFeed.Source.RunProgress, null, context.RequestAborted);
            var sse = await Sse.StartAsync(context);
            var rates = new ProgressRates();
            await foreach (var item in Drain(feed, context.RequestAborted))
            {
                await (item switch
                {
                    RunProgress p => sse.EventAsync("progress", Progress(p, rates)),
                    RunEnded e => VmEndAsync(sse, rates, e.RunId, e.VmUuid, e.Status),
                    _ => sse.CommentAsync("keep-alive"),
                });
            }
        }));
        app.MapGet("/api/cluster/events", (HttpContext context, ActorSystem system) => UntilGone(context, async () =>
        {
            await using var feed = await EventFeed.OpenAsync(system, EventFeed.Source.ClusterMembers, null, context.RequestAborted);
            var sse = await Sse.StartAsync(context);
            await foreach (var item in Drain(feed, context.RequestAborted))
            {
                await (item is EventFeed.MemberChange m
                    ? sse.EventAsync("member", new { address = m.Address, roles = m.Roles, status = m.Status })
                    : sse.CommentAsync("keep-alive"));
            }
        }));
    }

    /// <summary>A client leaving is how these streams end: its cancellation is no error.</summary>
    private static async Task UntilGone(HttpContext context, Func<Task> stream)
    {
        try
        {
            await stream();
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    /// <summary>One run: subscribed first, then the books read, so an end is either in the books or still to come.</summary>
    private static async Task RunEventsAsync(string runId, HttpContext context, ActorSystem system, ActorRegistry registry)
    {
        var aborted = context.RequestAborted;
        await using var feed = await EventFeed.OpenAsync(system, EventFeed.Source.RunProgress, RecheckEvery, aborted);
        var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (vm, state) in await VmStatesAsync(registry, null))
        {
            if (state.StatusOf(runId) is { } status)
            {
                statuses[vm] = status;
            }
        }

        if (statuses.Count == 0)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new { error = $"no run {runId}" }, aborted);
            return;
        }

        var tail = new RunTail(runId, statuses);
        var sse = await Sse.StartAsync(context);
        var rates = new ProgressRates();
        foreach (var (vm, status) in tail.Ended)
        {
            await VmEndAsync(sse, rates, runId, vm, status);
        }

        if (!tail.IsOver)
        {
            await foreach (var item in Drain(feed, aborted))
            {
                switch (item)
                {
                    case RunProgress p when p.RunId == runId:
                        await sse.EventAsync("progress", Progress(p, rates));
                        break;
                    case RunEnded e when e.RunId == runId && tail.End(e.VmUuid, e.Status):
                        await VmEndAsync(sse, rates, runId, e.VmUuid, e.Status);
                        break;
                    case EventFeed.Tick:
                        var region = await registry.GetAsync<ReplicatedVmRegion>(aborted);
                        foreach (var vm in tail.Going.ToList())
                        {
                            var state = await VmStateAsync(region, vm, aborted);
                            if (state.StatusOf(runId) is { } status && tail.End(vm, status))
                            {
                                await VmEndAsync(sse, rates, runId, vm, status);
                            }
                        }

                        break;
                    case EventFeed.KeepAlive:
                        await sse.CommentAsync("keep-alive");
                        break;
                }

                if (tail.IsOver)
                {
                    break;
                }
            }
        }

        if (tail.IsOver)
        {
            await sse.EventAsync("end",
                new { runId, vms = tail.Ended.OrderBy(v => v.Key, StringComparer.Ordinal)
                .Select(v => new { vm = v.Key, status = v.Value }) });
        }
    }

    /// <summary>The feed's items until the client leaves (then the enumeration just ends) or the feed stops.</summary>
    private static async IAsyncEnumerable<object> Drain(EventFeed feed,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken aborted)
    {
        while (true)
        {
            try
            {
                if (!await feed.Reader.WaitToReadAsync(aborted))
                {
                    yield break;
                }
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                yield break;
            }

            while (feed.Reader.TryRead(out var item))
            {
                yield return item;
            }
        }
    }

    private static Task VmEndAsync(Sse sse, ProgressRates rates, string runId, string vm, string status)
    {
        rates.Forget(runId, vm);
        return sse.EventAsync("vm-end", new { runId, vm, status });
    }

    private static object Progress(RunProgress p, ProgressRates rates)
    {
        var (bytesPerSecond, etaSeconds) = rates.Observe(p);
        return new { runId = p.RunId, jobId = p.JobId, vm = p.VmUuid, vmName = p.VmName, disk = p.Disk, diskName = p.DiskName, sr = p.Sr,
            srName = p.SrName, bytes = p.Bytes, total = p.Total, bytesPerSecond, etaSeconds, phase = p.Phase, at = p.At };
    }

    /// <summary>text/event-stream on a response: one event or comment at a time, flushed; a client that left ends
    /// the request through its aborted token.</summary>
    private sealed class Sse(HttpResponse response, CancellationToken aborted)
    {
        public static async Task<Sse> StartAsync(HttpContext context)
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await context.Response.StartAsync(context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            return new Sse(context.Response, context.RequestAborted);
        }

        public Task EventAsync(string name, object data) => WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data, Json)}\n\n");

        public Task CommentAsync(string text) => WriteAsync($": {text}\n\n");

        private async Task WriteAsync(string text)
        {
            try
            {
                await response.WriteAsync(text, aborted);
                await response.Body.FlushAsync(aborted);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The client left: the drain loop ends at its next wait.
            }
        }
    }
}

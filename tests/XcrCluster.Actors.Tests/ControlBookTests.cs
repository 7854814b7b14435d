using XcrCluster.Domain.Control;

namespace XcrCluster.Actors.Tests;

/// <summary>Request ids: a command sent again after its answer was lost is applied once and answered as the first
/// time; the ids remembered are bounded.</summary>
public sealed class ControlBookTests
{
    private static readonly RunLaunch Launch = new("run-1", "job-1", "s", [Guid.NewGuid().ToString()], "manual", DateTimeOffset.UnixEpoch);

    private static ControlBook Send(ControlBook book, IControlRequest command, out IControlReply reply)
    {
        (var e, reply) = book.Process(command);
        return e is null ? book : book.Apply(e);
    }

    [Fact]
    public void A_request_sent_twice_is_applied_once_and_answered_alike()
    {
        var book = Send(new ControlBook(), new ControlRequest("r1", new RecordRun(Launch)), out var first);
        book = Send(book, new ControlRequest("r1", new RecordRun(Launch)), out var again);
        Assert.Equal(new Done("run-1"), first);
        Assert.Equal(first, again);
        Assert.Single(book.State.Runs);

        // Another id is another command; a refusal is not remembered (nothing was applied).
        book = Send(book, new ControlRequest("r2", new RecordRun(Launch)), out _);
        Assert.Equal(2, book.State.Runs.Count);
        book = Send(book, new ControlRequest("r3", new DeleteJob("nope")), out var missing);
        Assert.IsType<NotFound>(missing);
        Assert.DoesNotContain(book.Applied, a => a.RequestId == "r3");
    }

    [Fact]
    public void The_ids_remembered_are_the_last_ones_and_bounded()
    {
        var book = new ControlBook();
        for (var i = 0; i < ControlBook.RequestsKept + 5; i++)
        {
            book = Send(book, new ControlRequest($"r{i}", new ForgetVm(Guid.NewGuid().ToString())), out _);
        }

        Assert.Equal(ControlBook.RequestsKept, book.Applied.Count);
        Assert.Equal("r5", book.Applied[0].RequestId);
    }
}

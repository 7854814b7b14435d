using System.Text.Json;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>Ids are types in code and plain strings on the wire: a record's JSON is the same as when they were strings, so
/// the journal reads either way.</summary>
public sealed class IdTests
{
    [Fact]
    public void A_chain_key_is_written_and_read_with_plain_string_ids()
    {
        var key = new ChainKey(new JobId("job-1"), new ScheduleId("schedule-1"), new SrId("sr-1"));
        var json = JsonSerializer.Serialize(key);
        Assert.Equal("""{"JobId":"job-1","ScheduleId":"schedule-1","SrUuid":"sr-1"}""", json);
        Assert.Equal(key, JsonSerializer.Deserialize<ChainKey>(json));
        Assert.Equal(new JobId("job-1"), JsonSerializer.Deserialize<Dictionary<JobId, int>>("""{"job-1":1}""")!.Keys.Single());
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ChainKey>("""{"JobId":1,"ScheduleId":"s","SrUuid":"r"}"""));
    }
}

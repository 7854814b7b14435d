using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace XcrCluster.Cli.Tests;

/// <summary>Something between xcr and the node (a proxy, a wrong port) answering HTML: one line with the status and the
/// start of the body, and a non-zero exit — never a stack trace.</summary>
public sealed class NonJsonReplyTests
{
    [Theory]
    [InlineData(502)]
    [InlineData(200)]
    public async Task A_reply_that_is_not_json_is_one_line_with_the_status_and_a_cut_of_the_body(int status)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.Run(async context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<html>\n<head><title>Bad Gateway</title></head>\n<body>" + new string('x', 2000)
                + "</body></html>\n");
        });
        await app.StartAsync();

        var output = new StringWriter();
        var error = new StringWriter();
        var code = await XcrCommand.RunAsync(["pool", "list", "--node", app.Urls.First(), "--token", "t"], output, error,
            new StringReader(""));
        Assert.Equal(1, code);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"xcr: the node answered {status} ", line);
        Assert.Contains("not JSON: <html> <head><title>Bad Gateway</title></head> <body>xxx", line);
        Assert.InRange(line.Length, 1, 200);
        Assert.Empty(output.ToString());
    }
}

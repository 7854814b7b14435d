using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;

namespace XcrCluster.Node;

/// <summary>
/// The web dashboard on the node's HTTP port: static HTML, CSS and ES modules embedded in this assembly (folder Web/,
/// no build step, no other server), a login page that takes the node's token and sets the session cookie
/// (<see cref="WebSession"/>), and logout. Runs before the token middleware: the login page and the static code are
/// public (they hold no data); the app page without a session redirects to the login page; every /api/* call of the
/// page goes through the token middleware, which accepts the cookie (<see cref="WebSession.Admits"/>).
/// </summary>
public static partial class WebUi
{
    public const string LoginPath = "/login";
    public const string LogoutPath = "/logout";

    /// <summary>A login form holds one token (64 hex characters): anything much bigger is refused unread.</summary>
    public const int MaxLoginBytes = 4096;

    /// <summary>Only our own files: no inline script or style, no other origin, not framed, forms post only here.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private const string ErrorMarker = "<!--error-->";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8", [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8", [".svg"] = "image/svg+xml",
    };

    public static void Use(WebApplication app, NodeTokens tokens) => app.Use(async (context, next) =>
    {
        var path = context.Request.Path.Value ?? "";
        var get = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        var post = HttpMethods.IsPost(context.Request.Method);
        if (path == LoginPath && get)
        {
            await ServeAsync(context, "login.html");
        }
        else if (path == LoginPath && post)
        {
            await LoginAsync(context, tokens);
        }
        else if (path == LogoutPath && post && WebSession.SameOrigin(context))
        {
            WebSession.ClearCookie(context);
            context.Response.Redirect(LoginPath);
        }
        else if (path.StartsWith("/ui/", StringComparison.Ordinal) && get)
        {
            await ServeAsync(context, path["/ui/".Length..]);
        }
        else if (path is "/" or "/index.html" && get)
        {
            if (WebSession.IsValid(tokens, context.Request.Cookies[WebSession.CookieName], DateTimeOffset.UtcNow))
            {
                await ServeAsync(context, "index.html");
            }
            else
            {
                context.Response.Redirect(LoginPath);
            }
        }
        else
        {
            await next();
        }
    });

    private static async Task LoginAsync(HttpContext context, NodeTokens tokens)
    {
        if (!WebSession.SameOrigin(context))
        {
            await LoginPageAsync(context, StatusCodes.Status403Forbidden, "this form posts from the node's own page only");
            return;
        }

        if (context.Request.ContentLength > MaxLoginBytes)
        {
            await LoginPageAsync(context, StatusCodes.Status413PayloadTooLarge, "the form is too large");
            return;
        }

        // Bounded whatever the client claims (chunked bodies have no length): Kestrel stops reading past it.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxLoginBytes;
        }

        string token;
        try
        {
            context.Features.Set<IFormFeature>(new FormFeature(context.Request, new Microsoft.AspNetCore.Http.Features.FormOptions
            {
                ValueCountLimit = 4, KeyLengthLimit = 32, ValueLengthLimit = 1024, MultipartBodyLengthLimit = MaxLoginBytes,
            }));
            token = context.Request.HasFormContentType
                ? (await context.Request.ReadFormAsync(context.RequestAborted))["token"].ToString() : "";
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            await LoginPageAsync(context, StatusCodes.Status413PayloadTooLarge, "the form is too large");
            return;
        }

        if (!WebSession.IsCurrentToken(tokens, token))
        {
            await LoginPageAsync(context, StatusCodes.Status401Unauthorized,
                "wrong token: give the one in the node's data directory, file token");
            return;
        }

        WebSession.SetCookie(context, WebSession.Issue(tokens, DateTimeOffset.UtcNow));
        context.Response.Redirect("/");
    }

    private static Task LoginPageAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return ServeAsync(context, "login.html", System.Net.WebUtility.HtmlEncode(message));
    }

    /// <summary>One embedded file with its content type and the security headers; 404 for any other name.</summary>
    private static async Task ServeAsync(HttpContext context, string name, string? error = null)
    {
        var type = FileName().IsMatch(name) ? ContentTypes.GetValueOrDefault(Path.GetExtension(name)) : null;
        await using var stream = type is null ? null : typeof(WebUi).Assembly.GetManifestResourceStream("web/" + name);
        if (stream is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin"; // not no-referrer: Chromium then sends "Origin: null" with the forms
        headers.CacheControl = "no-cache";
        context.Response.ContentType = type;
        if (error is null)
        {
            await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
            return;
        }

        using var reader = new StreamReader(stream);
        var page = (await reader.ReadToEndAsync(context.RequestAborted))
            .Replace(ErrorMarker, $"<p class=\"error\" role=\"alert\" id=\"login-error\">{error}</p>", StringComparison.Ordinal);
        await context.Response.WriteAsync(page, context.RequestAborted);
    }

    [GeneratedRegex("^[a-z0-9-]+\\.[a-z]+$")]
    private static partial Regex FileName();
}

using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Gatehouse.Access.Roles;
using Gatehouse.Audit;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Apps;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Resources;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Tests.Forwarding;

/// <summary>
/// The one forwarding middleware on in-memory requests, with YARP's real forwarder and an upstream that answers in
/// memory: the order of its steps and what each kind is asked, whatever the kind. The kinds' own parts (Status objects,
/// HTML pages, sessions) are covered end to end.
/// </summary>
public sealed class ForwardingMiddlewareTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly HttpApp Echo = new("echo", new Uri("http://upstream.test/base/"), null, new Dictionary<string, string>(), false);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly MemoryAuditStore _store = new();
    private readonly RecordingLogger<ForwardingMiddleware<HttpApp, AccessDecision>> _log = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddLogging().AddHttpForwarder()
        .AddAuthentication().AddScheme<AuthenticationSchemeOptions, PresetCallerHandler>(ClientCertificateAuthenticationHandler.SchemeName, null).Services
        .BuildServiceProvider();
    private readonly TestKind _kind = new();
    private bool _nextRan;

    private ForwardingMiddleware<HttpApp, AccessDecision> Middleware() => new(_ => { _nextRan = true; return Task.CompletedTask; }, _kind,
        _services.GetRequiredService<IHttpForwarder>(), new AccessAudit(new AuditLog(_store, _time), _time), _time, _log);

    private static Caller Caller(string user, DateTimeOffset expiresAt) =>
        new(new Identity.Identity { User = user, Cluster = "c" }, IdentitySource.ForwardedHeader, IPAddress.Parse("203.0.113.7"), expiresAt,
            new CertificateFacts($"CN={user}", "CN=ca", "0A", "AB", expiresAt, true), "alb");

    /// <summary>A request from a trusted hop that resolved the client to 203.0.113.7, with <paramref name="caller"/> already
    /// judged (or <paramref name="verdict"/>, or nothing).</summary>
    private DefaultHttpContext Request(string path, Caller? caller = null, ForwardedAuthentication? verdict = null)
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("gatehouse.test");
        var query = path.IndexOf('?');
        context.Request.Path = query < 0 ? path : path[..query];
        context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(path[query..]);
        context.Request.Headers["X-Forwarded-For"] = "198.51.100.1, 203.0.113.7";
        context.Request.Headers["Impersonate-User"] = "admin";
        context.Response.Body = new MemoryStream();
        var address = ClientAddress.Walk(IPAddress.Parse("10.0.0.1"), ["198.51.100.1, 203.0.113.7"], a => a.ToString() == "10.0.0.1", out _);
        context.Features.Set(new RequestIdentityFeature(address, null, null)
        {
            Verdict = caller is null ? verdict : new ForwardedAuthentication(ForwardedStatus.Authenticated, caller.Identity, caller.Certificate, "alb", null, ""),
            Caller = caller,
        });
        return context;
    }

    private static string Body(HttpContext context) => Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());

    [Fact]
    public async Task A_request_for_no_resource_goes_on_and_an_unknown_name_is_the_kinds_not_found()
    {
        await Middleware().InvokeAsync(Request("/v1/ping"));
        Assert.True(_nextRan);

        _nextRan = false;
        var unknown = Request("/apps/nope/");
        await Middleware().InvokeAsync(unknown);
        Assert.False(_nextRan);
        Assert.Equal(404, unknown.Response.StatusCode);
        Assert.Equal("NotFound|there is no HTTP app named 'nope' (this proxy serves: echo)", Body(unknown));
    }

    [Fact]
    public async Task The_bare_path_prefix_is_redirected_under_it_before_anyone_is_asked_who_they_are()
    {
        var context = Request("/apps/echo?x=1");
        await Middleware().InvokeAsync(context);
        Assert.Equal(302, context.Response.StatusCode);
        Assert.Equal("/apps/echo/?x=1", context.Response.Headers.Location);
        Assert.Equal(0, _kind.FallbackAsked);
    }

    [Fact]
    public async Task Without_a_certificate_the_kind_may_name_the_caller_or_answer_itself()
    {
        var none = Request("/apps/echo/");
        await Middleware().InvokeAsync(none);
        Assert.Equal(1, _kind.FallbackAsked);
        Assert.Equal("Unauthenticated|no certificate", Body(none));

        _kind.Fallback = (null, true);
        var answered = Request("/apps/echo/");
        await Middleware().InvokeAsync(answered);
        Assert.Equal("", Body(answered));
        Assert.Empty(_store.Events);
    }

    [Fact]
    public async Task A_refused_certificate_is_answered_with_its_reason_and_no_other_credential_is_tried()
    {
        var context = Request("/apps/echo/", verdict: ForwardedAuthentication.Refuse("alb", "ClientCertExpired", "the certificate expired"));
        await Middleware().InvokeAsync(context);
        Assert.Equal("Unauthenticated|the certificate expired (ClientCertExpired)", Body(context));
        Assert.Equal(0, _kind.FallbackAsked);
    }

    [Fact]
    public async Task A_denied_caller_is_audited_logged_and_refused_in_the_kinds_words()
    {
        var context = Request("/apps/echo/x", Caller("bob", Start.AddHours(1)));
        await Middleware().InvokeAsync(context);

        Assert.Equal("Forbidden|bob may not", Body(context));
        var decision = Assert.Single(_store.Events);
        Assert.Equal(("denied", "forwarded-header", "http-app:echo", "path-prefix"), (decision.Decision, decision.IdentitySource, decision.Resource, decision.Details!["arrival"]));
        Assert.Contains(_log.Lines, l => l.Message == "bob denied HTTP app echo: bob may not");
        Assert.Null(_kind.Upstream.Request);
    }

    [Fact]
    public async Task An_allowed_request_is_forwarded_through_the_kinds_transformer_and_client()
    {
        var context = Request("/apps/echo/x?q=1", Caller("alice", Start.AddHours(1)));
        await Middleware().InvokeAsync(context);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("from upstream", Body(context));
        var sent = _kind.Upstream.Request!;
        Assert.Equal("http://upstream.test/base/x?q=1", sent.RequestUri!.ToString());
        Assert.Equal("198.51.100.1, 203.0.113.7", sent.Headers.GetValues("X-Forwarded-For").Single());
        Assert.Equal("/apps/echo", sent.Headers.GetValues("X-Forwarded-Prefix").Single());
        Assert.Equal("yes", sent.Headers.GetValues("X-Test-Kind").Single());
        Assert.False(sent.Headers.Contains("Impersonate-User"));
        var decision = Assert.Single(_store.Events);
        Assert.Equal(("allowed", "alice", "yes"), (decision.Decision, decision.User, decision.Details!["test"]));
        Assert.False(_kind.Upstream.Aborted);
    }

    [Fact]
    public async Task An_unreachable_resource_is_reported_in_one_sentence_by_the_kind()
    {
        _kind.Upstream.Fail = true;
        var context = Request("/apps/echo/", Caller("alice", Start.AddHours(1)));
        await Middleware().InvokeAsync(context);

        Assert.Equal("Unreachable|Unreachable: Connection refused", Body(context)); // the socket's own words
        Assert.Contains(_log.Lines, l => l.Message.StartsWith("Forwarding to HTTP app echo failed (Request)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_whose_credential_has_expired_meanwhile_is_cut_and_says_why()
    {
        var context = Request("/apps/echo/", Caller("alice", Start.AddSeconds(-1)));
        var lifetime = new AbortRecorder();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);
        await Middleware().InvokeAsync(context);

        Assert.True(lifetime.Aborted);
        Assert.Contains(_log.Lines, l => l.Message.StartsWith("Ended alice's open request to http-app:echo: the certificate it was allowed for expired",
            StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _kind.Dispose();
        _services.Dispose();
    }

    /// <summary>A kind with visible answers: refusals are written as "Refusal|sentence".</summary>
    private sealed class TestKind : ResourceForwarding<HttpApp, AccessDecision>, IDisposable
    {
        private readonly HttpAppRoutes _routes = new([Echo], ["gatehouse.test"]);
        private readonly HttpMessageInvoker _client;

        public TestKind() => _client = new HttpMessageInvoker(Upstream);

        public RecordingUpstream Upstream { get; } = new();
        public (Caller? Caller, bool Answered) Fallback { get; set; }
        public int FallbackAsked { get; private set; }

        public override string Kind => "HTTP app";
        public override string NoCertificateHint => "no certificate";
        public override ForwarderRequestConfig RequestConfig => ForwarderRequestConfig.Empty;

        public override ResourceMatch<HttpApp>? Match(HttpContext context, out string? notFound) => _routes.Match(context.Request, out notFound);

        public override ValueTask<(Caller? Caller, bool Answered)> CallerWithoutCertificateAsync(HttpContext context, ResourceMatch<HttpApp> match)
        {
            FallbackAsked++;
            return ValueTask.FromResult(Fallback);
        }

        public override ValueTask<ForwardingDecision<AccessDecision>> DecideAsync(Caller caller, ResourceMatch<HttpApp> match, CancellationToken cancellationToken)
        {
            var decision = caller.User == "alice" ? AccessDecision.AllowedBy("test") : AccessDecision.Denied($"{caller.User} may not", null);
            return ValueTask.FromResult(new ForwardingDecision<AccessDecision>(decision.Allowed, decision.Reason, decision,
                new Dictionary<string, string> { ["test"] = "yes" }));
        }

        public override HttpTransformer Transformer(Caller caller, ResourceMatch<HttpApp> match, AccessDecision grant) =>
            new TestTransformer(match, caller, new UpstreamHeaderRules(ForwardedCertificateOptions.None.CertificateHeaderNames,
                new ProxyCookieFilter(new RecordingLogger<ProxyCookieFilter>())));

        public override HttpMessageInvoker Client(HttpApp resource) => _client;

        public override string FailureSentence(HttpApp resource, ForwardingRefusal refusal, string cause) => $"{refusal}: {cause}";

        public override async Task WriteRefusalAsync(HttpContext context, ForwardingRefusal refusal, string sentence, HttpApp? resource)
        {
            context.Response.StatusCode = refusal switch
            {
                ForwardingRefusal.NotFound => 404, ForwardingRefusal.Unauthenticated => 401, ForwardingRefusal.Forbidden => 403, _ => 502,
            };
            await context.Response.WriteAsync($"{refusal}|{sentence}");
        }

        public void Dispose() => _client.Dispose();
    }

    private sealed class TestTransformer(ResourceMatch<HttpApp> match, Caller caller, UpstreamHeaderRules rules)
        : ForwardedRequestTransformer<HttpApp>(match, caller, rules)
    {
        protected override void AddResourceHeaders(HttpRequestMessage proxyRequest) => proxyRequest.Headers.Add("X-Test-Kind", "yes");
    }

    /// <summary>The resource, in memory: keeps the request it was sent, answers "from upstream" or fails to connect.</summary>
    internal sealed class RecordingUpstream : HttpMessageHandler
    {
        public HttpRequestMessage? Request { get; private set; }
        public bool Fail { get; set; }
        public bool Aborted { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Request = request;
            Aborted = cancellationToken.IsCancellationRequested;
            if (Fail) throw new HttpRequestException("connection refused", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("from upstream") });
        }
    }

    private sealed class AbortRecorder : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get; set; }
        public bool Aborted { get; private set; }
        public void Abort() => Aborted = true;
    }

    /// <summary>The client-certificate scheme with the verdict already judged: what the real handler does on its second call.</summary>
    private sealed class PresetCallerHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(Context.Features.Get<RequestIdentityFeature>() switch
        {
            { Caller: { } caller } => AuthenticateResult.Success(new AuthenticationTicket(
                new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, caller.User)], Scheme.Name)), Scheme.Name)),
            { Verdict: { Status: ForwardedStatus.Refused } verdict } => AuthenticateResult.Fail(verdict.Message),
            _ => AuthenticateResult.NoResult(),
        });
    }
}

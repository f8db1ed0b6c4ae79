using System.Globalization;
using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Logging;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Targets;

/// <summary>
/// Health checks of one target group: every interval a GET of the path to each target, answered within the timeout
/// with a status the matcher accepts; healthy_threshold passes in a row make a target healthy again,
/// unhealthy_threshold failures take it out of the rotation. Runs until the edge stops.
/// </summary>
internal sealed class HealthChecker(TargetGroup group, HealthCheckOptions options, ILogger logger, TimeProvider time)
{
    public async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Interval, time);
        do
        {
            await Task.WhenAll(group.Targets.Select(target => CheckAsync(target, stopping)));
        }
        while (await Next(timer, stopping));
    }

    private static async ValueTask<bool> Next(PeriodicTimer timer, CancellationToken stopping)
    {
        try { return await timer.WaitForNextTickAsync(stopping); }
        catch (OperationCanceledException) { return false; }
    }

    private async Task CheckAsync(Target target, CancellationToken stopping)
    {
        string outcome;
        bool passed;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(options.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target.Prefix + options.Path) { Version = System.Net.HttpVersion.Version11 };
            request.Headers.UserAgent.ParseAdd("ELB-HealthChecker/2.0");
            using var response = await group.Invoker.SendAsync(request, timeout.Token);
            passed = Matches((int)response.StatusCode);
            outcome = $"answered {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            passed = false;
            outcome = e is OperationCanceledException ? $"did not answer within {options.Timeout.TotalSeconds:0.#} s" : e.Message;
        }
        if (target.Record(passed, options))
            EdgeLog.TargetHealthChanged(logger, group.Name, target.ToString(), target.Healthy ? "healthy" : "unhealthy", options.Path, outcome);
    }

    /// <summary>"200", "200-299", "200,302" (ALB's matcher syntax).</summary>
    private bool Matches(int status) => Matches(options.Matcher, status);

    internal static bool Matches(string matcher, int status)
    {
        foreach (var part in matcher.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0 ? Parse(part) == status : Parse(part[..dash]) <= status && status <= Parse(part[(dash + 1)..])) return true;
        }
        return false;
    }

    internal static bool IsValidMatcher(string matcher) =>
        matcher.Split(',', StringSplitOptions.TrimEntries).All(part => part.Split('-') is { Length: 1 or 2 } bounds && bounds.All(b => Parse(b) is >= 200 and <= 499));

    private static int Parse(string text) => int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
}

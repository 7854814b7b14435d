namespace XcrCluster.XapiSim;

/// <summary>failCalls: the <see cref="Nth"/> call of <see cref="Method"/> (Async.X counts as X) from when the rule
/// was set fails with XAPI error <see cref="Code"/> [<see cref="Params"/>…], once.</summary>
public sealed record CallFailure(string Method, int Nth = 1, string Code = "INTERNAL_ERROR", IReadOnlyList<string>? Params = null);

/// <summary>malformedReplies: the <see cref="Nth"/> RPC reply for <see cref="Method"/> is HTTP 200 with a body that
/// does not parse, once.</summary>
public sealed record MalformedReply(string Method, int Nth = 1);

/// <summary>Rules that fire on the nth matching event counted from when they were set, each once. Thread-safe.</summary>
internal sealed class CountedRules<T>(Func<T, string> method, Func<T, int> nth)
    where T : class
{
    private readonly List<(T Rule, int Seen)> rules = [];

    public IReadOnlyList<T> Pending
    {
        get
        {
            lock (rules)
            {
                return [.. rules.Select(r => r.Rule)];
            }
        }
    }

    public void Set(IEnumerable<T> replacement)
    {
        lock (rules)
        {
            rules.Clear();
            rules.AddRange(replacement.Select(r => (r, 0)));
        }
    }

    public void Add(T rule)
    {
        lock (rules)
        {
            if (rules.Count >= Faults.MaxRules)
            {
                throw new ArgumentException($"at most {Faults.MaxRules} rules");
            }

            rules.Add((rule, 0));
        }
    }

    /// <summary>Counts one event of <paramref name="name"/> on every rule for it; the first rule whose count
    /// reaches its nth is removed (it fired) and returned.</summary>
    public T? Take(string name)
    {
        lock (rules)
        {
            T? fired = null;
            for (var i = 0; i < rules.Count; i++)
            {
                if (method(rules[i].Rule) != name)
                {
                    continue;
                }

                var seen = rules[i].Seen + 1;
                rules[i] = (rules[i].Rule, seen);
                if (fired is null && seen >= nth(rules[i].Rule))
                {
                    fired = rules[i].Rule;
                    rules.RemoveAt(i--);
                }
            }

            return fired;
        }
    }
}

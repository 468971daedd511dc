using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>A Lua script kept as an embedded <c>.lua</c> resource and called by SHA (EVALSHA).</summary>
public sealed class RedisScript
{
    private readonly byte[] _sha1;

    private RedisScript(string name, string source)
    {
        Name = name;
        Source = source;
#pragma warning disable CA5350 // SHA-1 is what Redis names scripts by (EVALSHA), not a security measure
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(source));
#pragma warning restore CA5350
    }

    public string Name { get; }

    public string Source { get; }

    /// <summary>
    /// A script that calls others as local functions: each part's source is wrapped as
    /// <c>local function &lt;name&gt;_fn(KEYS, ARGV, ...) … end</c> ahead of the main script, so the parts keep one
    /// definition. A part reads extra arguments with <c>...</c>, which is empty when it runs as a script of its own.
    /// </summary>
    public static RedisScript Compose(string name, IEnumerable<RedisScript> parts, RedisScript main)
    {
        var source = new StringBuilder();
        foreach (var part in parts)
            source.Append("local function ").Append(part.Name).Append("_fn(KEYS, ARGV, ...)\n").Append(part.Source).Append("\nend\n");
        source.Append(main.Source);
        return new RedisScript(name, source.ToString());
    }

    /// <summary>The script with <paramref name="prefix"/> (Lua declarations) in front of its source.</summary>
    public static RedisScript WithPrefix(string name, string prefix, RedisScript script) => new(name, prefix + script.Source);

    public static RedisScript FromResource(string name)
    {
        var assembly = typeof(RedisScript).Assembly;
        using var stream = assembly.GetManifestResourceStream($"ProfileUpdate.Scripts.{name}.lua")
            ?? throw new InvalidOperationException($"Embedded script {name}.lua is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new RedisScript(name, reader.ReadToEnd());
    }

    /// <summary>EVALSHA; when the server does not know the script (restart, failover, new node) EVAL loads it again.</summary>
    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await db.ScriptEvaluateAsync(_sha1, keys, args);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await db.ScriptEvaluateAsync(Source, keys, args);
        }
    }
}

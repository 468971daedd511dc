namespace ProfileUpdate.Api.Quota;

/// <summary>What one quota call decided.</summary>
/// <param name="Admitted">Units admitted (the first ones asked for).</param>
/// <param name="Remaining">Units left in the window after this call.</param>
/// <param name="ResetSeconds">Seconds until the oldest used unit frees (0 when none is used).</param>
/// <param name="RetryAfterSeconds">For denied units: seconds until one more would be admitted (0 when none was denied).</param>
public readonly record struct QuotaDecision(long Admitted, long Remaining, long ResetSeconds, long RetryAfterSeconds)
{
    /// <summary>What the applier uses when the quota is switched off (ProfileUpdate:Quota:Enabled=false).</summary>
    public static QuotaDecision Unlimited(long limit, long units) => new(units, limit, 0, 0);
}

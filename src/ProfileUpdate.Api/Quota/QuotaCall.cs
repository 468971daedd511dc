using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Api.Quota;

/// <summary>
/// One script call that takes quota units (quota.lua, quota_apply.lua), named so that sending it again tells whether it
/// already ran (<see cref="MarkedCall"/>): its marker is in the slot of the client's quota key, so a retry after the
/// connection broke never takes the units twice.
/// </summary>
public sealed class QuotaCall(string client) : MarkedCall(name => RedisKeys.QuotaReply(client, name));

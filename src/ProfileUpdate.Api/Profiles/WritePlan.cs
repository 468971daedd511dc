using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// An apply call of the applier with the change feed on (apply_marked.lua), named so that sending it again tells whether
/// it already ran (<see cref="MarkedCall"/>). Its marker is tagged with the partition of the call's first profile: on
/// Redis Cluster every profile of the call is in that slot.
/// </summary>
public sealed class ApplyCall(string client, int partition) : MarkedCall(name => RedisKeys.ApplyReply(client, partition, name));

/// <summary>
/// A multi-entry write as the apply.lua calls that carry it (one per hash slot on a cluster, one on a standalone store),
/// kept so that the write can be sent again after the connection broke under it (the applier's one retry): a call whose
/// reply arrived is not sent again (its changes were counted then), and in a plan made with reply markers (change feed
/// on, <see cref="ProfileRepository.PlanWrite"/>) a call that ran with only its reply lost answers its first run's
/// results and writes and logs nothing more. Sent by one caller at a time.
/// </summary>
public sealed class WritePlan
{
    internal WritePlan(IReadOnlyList<ProfileWrite> writes, RedisKey[] keys, Call[] calls) => (Writes, Keys, Calls) = (writes, keys, calls);

    public IReadOnlyList<ProfileWrite> Writes { get; }

    /// <summary>Each write's profile hash.</summary>
    internal RedisKey[] Keys { get; }

    internal Call[] Calls { get; }

    /// <summary>One script call: the writes it carries (indexes into <see cref="Writes"/>), its marker, its reply once sent.</summary>
    internal sealed class Call(int[] members, ApplyCall? marker)
    {
        public int[] Members { get; } = members;

        /// <summary>Null: a plain apply.lua call, which a second send runs again.</summary>
        public ApplyCall? Marker { get; } = marker;

        /// <summary>The results of the call's entries, in member order, from its latest send.</summary>
        public Task<WriteResult[]>? Reply { get; set; }
    }
}

using System.Threading.Channels;

namespace ProfileUpdate.Api.Updates;

/// <summary>
/// The bounded hand-over between request handlers and the applier. Bounded so memory never grows with load: when it is
/// full the endpoint answers 503 + Retry-After (back-pressure) instead of queueing without limit.
/// </summary>
public sealed class UpdateQueue
{
    private readonly Channel<UpdateCommand> _channel;

    public UpdateQueue(IOptions<ProfileUpdateOptions> options)
    {
        _channel = Channel.CreateBounded<UpdateCommand>(new BoundedChannelOptions(options.Value.Applier.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: "full" is reported, nothing is dropped
        });
    }

    public ChannelReader<UpdateCommand> Reader => _channel.Reader;

    public int Count => _channel.Reader.Count;

    /// <summary>False when the queue is full or the service is shutting down.</summary>
    public bool TryEnqueue(UpdateCommand command) => _channel.Writer.TryWrite(command);

    /// <summary>Refuses new updates; the applier drains what is queued, then stops.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}

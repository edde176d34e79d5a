// The program's side of the socket: what a monitor (or anything that connects) sends, read in
// pieces of any size as MonitorServer reads them, cut into frames and decoded.
//
// Input: one byte giving the piece size (1 to 256), then the byte stream.
#include "harness_p.h"
#include "protocol_p.h"

using pk::protocol::FrameReader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const qsizetype piece = qsizetype(data[0]) + 1;
    const QByteArray stream = pkfuzz::bytes(data + 1, size - 1);
    FrameReader reader;
    qsizetype framedBytes = 0;
    for (qsizetype pos = 0; pos < stream.size(); pos += piece) {
        reader.append(stream.mid(pos, piece));
        for (;;) {
            QByteArray payload;
            QString error;
            const FrameReader::Result result = reader.next(&payload, &error);
            if (result == FrameReader::NeedMore)
                break;
            if (result == FrameReader::Error) {
                if (error.isEmpty())
                    pkfuzz::fail("a frame error without a reason");
                // A failed reader stays failed, whatever comes next.
                reader.append(
                    pk::protocol::frame(pk::protocol::encode(pk::protocol::Message::hello())));
                if (reader.next(&payload, &error) != FrameReader::Error)
                    pkfuzz::fail("a frame reader went on after an error");
                return 0;
            }
            if (payload.size() > pk::protocol::kMaxFrameSize)
                pkfuzz::fail("a frame over the limit");
            framedBytes += pk::protocol::kFrameHeaderSize + payload.size();
            pk::protocol::Message message;
            if (!pk::protocol::decode(payload, &message, &error) && error.isEmpty())
                pkfuzz::fail("a decode error without a reason");
        }
        // Never more than one frame's worth held back.
        if (reader.bufferedBytes() > pk::protocol::kFrameHeaderSize + pk::protocol::kMaxFrameSize)
            pkfuzz::fail("the frame reader holds more than a frame");
    }
    if (framedBytes + reader.bufferedBytes() != stream.size())
        pkfuzz::fail("the frame reader lost bytes");
    return 0;
}

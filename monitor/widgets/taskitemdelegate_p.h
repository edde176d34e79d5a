// Internal: how the task table draws its cells, cheaply enough to repaint during a flood.
#pragma once

#include <QtCore/QCache>
#include <QtGui/QStaticText>
#include <QtWidgets/QStyledItemDelegate>

namespace pk::monitor {

// Draws a cell's background, state icon and one line of text (display, foreground and
// alignment roles) without the style's per-cell text layout, which cost most of a repaint
// of the table (7.7 ms of a 1400×900 window's paint during a 1M flood). Laid-out texts are
// cached: a flood repaints the same few hundred cells many times. Sizes still come from
// QStyledItemDelegate. GUI thread only, like every delegate.
class TaskItemDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
        const QModelIndex &index) const override;

private:
    const QStaticText &laidOut(
        const QString &text, const QStyleOptionViewItem &option, int width) const;

    // Text and the width it was elided to; the font is the view's, so it is not in the key.
    using Key = std::pair<QString, int>;
    mutable QCache<Key, QStaticText> m_texts { 4096 };
    mutable QFont m_font;
};

} // namespace pk::monitor

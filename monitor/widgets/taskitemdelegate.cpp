#include "monitorstyle_p.h"
#include "taskitemdelegate_p.h"

#include <pk/monitormodel.h>

#include <QtGui/QPainter>
#include <QtWidgets/QApplication>
#include <QtWidgets/QStyle>

namespace pk::monitor {

void TaskItemDelegate::paint(
    QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    Q_ASSERT(index.isValid());
    const QWidget *widget = option.widget;
    const QStyle *style = widget ? widget->style() : QApplication::style();
    const bool selected = option.state.testFlag(QStyle::State_Selected);
    const bool active = option.state.testFlag(QStyle::State_Active);
    const QPalette::ColorGroup group = !option.state.testFlag(QStyle::State_Enabled)
        ? QPalette::Disabled
        : active ? QPalette::Active
                 : QPalette::Inactive;

    if (selected)
        painter->fillRect(option.rect, option.palette.brush(group, QPalette::Highlight));
    else if (option.features.testFlag(QStyleOptionViewItem::Alternate))
        painter->fillRect(option.rect, option.palette.brush(group, QPalette::AlternateBase));

    // The style's margins, so the cells line up with the header as they did.
    const int margin = style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, widget) + 1;
    QRect rect = option.rect.adjusted(margin, 0, -margin, 0);

    const QVariant decoration = index.data(Qt::DecorationRole);
    if (decoration.canConvert<QIcon>()) {
        const QSize size = option.decorationSize;
        const QRect iconRect(rect.left(), rect.top() + (rect.height() - size.height()) / 2,
            size.width(), size.height());
        qvariant_cast<QIcon>(decoration)
            .paint(painter, iconRect, Qt::AlignCenter, selected ? QIcon::Selected : QIcon::Normal);
        rect.setLeft(iconRect.right() + 1 + margin);
    }

    // The progress column: a bar under its text.
    if (index.column() == MonitorModel::ProgressColumn) {
        const double fraction = index.data(MonitorModel::ProgressRole).toDouble();
        if (fraction >= 0) {
            const QRect track = rect.adjusted(0, 3, 0, -3);
            QColor fill = stateColor(index.data(MonitorModel::StateRole).value<TaskState>());
            fill.setAlpha(selected ? 150 : 90);
            painter->fillRect(
                QRect(track.left(), track.top(), int(track.width() * fraction), track.height()),
                fill);
        }
    }

    const QString text = displayText(index.data(Qt::DisplayRole), option.locale);
    if (text.isEmpty() || rect.width() <= 0)
        return;
    const QVariant foreground = index.data(Qt::ForegroundRole);
    const QVariant alignment = index.data(Qt::TextAlignmentRole);
    const Qt::Alignment horizontal
        = Qt::Alignment(alignment.isValid() ? alignment.toInt() : int(option.displayAlignment))
        & Qt::AlignHorizontal_Mask;

    const QStaticText &laid = laidOut(text, option, rect.width());
    const QSizeF size = laid.size();
    qreal x = rect.left();
    if (horizontal.testFlag(Qt::AlignRight))
        x = rect.right() + 1 - size.width();
    else if (horizontal.testFlag(Qt::AlignHCenter))
        x = rect.left() + (rect.width() - size.width()) / 2;
    const qreal y = rect.top() + (rect.height() - size.height()) / 2;

    painter->save();
    painter->setFont(option.font);
    if (selected)
        painter->setPen(option.palette.color(group, QPalette::HighlightedText));
    else if (foreground.canConvert<QBrush>())
        painter->setPen(qvariant_cast<QBrush>(foreground).color());
    else
        painter->setPen(option.palette.color(group, QPalette::Text));
    painter->drawStaticText(QPointF(x, y), laid);
    painter->restore();
}

const QStaticText &TaskItemDelegate::laidOut(
    const QString &text, const QStyleOptionViewItem &option, int width) const
{
    if (option.font != m_font) {
        m_texts.clear();
        m_font = option.font;
    }
    const Key key { text, width };
    if (QStaticText *cached = m_texts.object(key))
        return *cached;
    const QFontMetrics metrics(option.font);
    auto *laid = new QStaticText(metrics.elidedText(text, option.textElideMode, width));
    laid->setTextFormat(Qt::PlainText);
    laid->setPerformanceHint(QStaticText::AggressiveCaching);
    laid->prepare(QTransform(), option.font);
    m_texts.insert(key, laid);
    return *laid;
}

} // namespace pk::monitor
